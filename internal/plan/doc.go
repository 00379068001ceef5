// Package plan computes, without any I/O, what setting a platform changes:
// from the bytes read (manifest, config) and the request it returns every
// new blob and manifest as exact bytes with its digest, the platform before
// and after, and whether anything changes, or refuses with an error. The
// apply step only uploads what a plan holds; dry-run and check stop at the
// plan.
package plan
