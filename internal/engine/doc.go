// Package engine is the core both front doors (the GitHub Action and the
// command line) share: a validated Config in, one Result per image out.
// For each image it reads the tree the registry holds (readTree), detects
// platforms where package plan says, asks plan what changes, and applies
// the plan: blobs first, then child manifests, then the manifest, then a
// read-back of the digest. It fans out with limits.All (package limits
// says what each bound holds); every request to a registry goes through
// that registry's client and its limiter. It knows nothing of GitHub and words nothing for a front door: failures carry a
// typed Hint the front door words (Deps.Words), and it reports through a
// Logger.
package engine
