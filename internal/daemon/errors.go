package daemon

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// NoEngineError says that nothing answers at the engine's address: no
// socket file, or nothing listening on it.
type NoEngineError struct {
	Host string // DOCKER_HOST as used, e.g. unix:///var/run/docker.sock
	Err  error
}

func (e *NoEngineError) Error() string {
	return fmt.Sprintf("reaching the Docker engine at %q: no engine answers: %v", e.Host, e.Err)
}

func (e *NoEngineError) Unwrap() error { return e.Err }

// PermissionError says that the engine's socket, or the engine itself
// (an authorization plugin, a proxy: HTTP 401 or 403), refuses us.
type PermissionError struct {
	Host string
	Err  error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("reaching the Docker engine at %q: permission refused: %v", e.Host, e.Err)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// NotFoundError says that the engine holds no image by that name or ID.
type NotFoundError struct {
	Name    string
	Message string // the engine's own words
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("finding image %q in the Docker engine: no such image", e.Name)
}

// NotFound lets callers treat it like the registry's and layout's errors.
func (e *NotFoundError) NotFound() bool { return true }

// TooOldError says that the engine speaks an API older than MinAPIVersion.
type TooOldError struct {
	Host    string
	Version string // the engine's Api-Version
}

func (e *TooOldError) Error() string {
	return fmt.Sprintf("reaching the Docker engine at %q: engine API %s is too old, %s or later is needed (Docker 20.10 or later)",
		e.Host, e.Version, MinAPIVersion)
}

// APIError is any other refusal of the engine, with its status and words.
type APIError struct {
	Op      string // e.g. "loading image \"app:1\""
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: the Docker engine answered %d: %s", e.Op, e.Status, e.Message)
}

// dialError types a failure to connect: whether the socket is missing or
// refuses us is what a person can act on.
func dialError(host string, err error) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return nil
	}
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, os.ErrPermission):
		return &PermissionError{Host: host, Err: err}
	default:
		return &NoEngineError{Host: host, Err: err}
	}
}
