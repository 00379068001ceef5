// Package cli is the command-line front door: flags into the same
// engine.Config the action builds, credentials as docker and crane read
// them, human lines or --json, and --demo, which runs the whole path against
// a registry it starts on loopback.
package cli
