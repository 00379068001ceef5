// Package plan computes, without any I/O, what setting a platform changes.
//
// What a reference names is one tree of Nodes (NewImage, NewIndex,
// NewOther): an image or an index and what hangs off it (children, their
// configs, attestations). Each node holds what was read (bytes, digest,
// media type, parsed manifest or index entry), what was declared (config
// and entry platforms, parsed once when the node is made) and what the
// binaries show (Detected). The decisions are pure functions of the tree:
// ToDetect (whose binaries to read with platform auto), Set and Check (the
// Plan: new bytes with digests, platforms before and after, findings), and
// Plan.Writes (what applying it writes, in dependency order). Engine reads
// the tree, detects where ToDetect says, and applies the plan; dry-run and
// check stop at the plan.
package plan
