package sweep

import "fmt"

// InputError is a bad input, found before any request; Input names it
// ("image", "tag", "shards", "concurrency").
type InputError struct {
	Input string
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("input %s: %v", e.Input, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }
