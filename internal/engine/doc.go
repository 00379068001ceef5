// Package engine is the core both front doors (the GitHub Action and the
// command line) share: a validated Config in, one Result per image out.
// For each image it reads what the registry holds, asks package plan what
// changes, and applies the plan: blobs first, then the manifest, then a
// read-back of the digest. It knows nothing of GitHub; it reports through a
// Logger.
package engine
