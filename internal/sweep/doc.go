// Package sweep holds the parts of working many tags at once that need no
// registry: tag patterns (store references; imageref parses them from
// image lines) and their expansion against a listing, grouping tags by the digest they share so that each digest is
// worked once, splitting the work into shards for a matrix job, progress
// lines for large runs, and keeping the results output under GitHub's
// output limit.
package sweep
