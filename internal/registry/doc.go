// Package registry talks to container registries over the OCI distribution
// API: one authenticated client per registry for the whole run, raw manifest
// and blob bytes in and out, cross-repository mounts, and the HTTPS policy
// that keeps credentials off plain HTTP.
//
// It uses go-containerregistry for references, keychains and the
// authenticating transport (ping, token exchange), and issues the
// distribution requests itself so that every request is one the job needs:
// no existence checks before uploads, no layer look-ups, media types and
// bytes exactly as given.
package registry
