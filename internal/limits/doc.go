// Package limits holds every bound a run puts on how much it does at
// once, so that they are read, and changed, side by side; and All, the one
// way the engine fans work out and keeps every error.
package limits
