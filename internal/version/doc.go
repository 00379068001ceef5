// Package version says which build of set-image-platform is running: the
// release tag stamped at build time, else the module version of a
// `go install`ed binary, else the commit of a branch build.
package version
