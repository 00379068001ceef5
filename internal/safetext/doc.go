// Package safetext is the one place that makes text from registries and
// images (error messages, platform fields, file names from layers) safe for
// each sink it is printed to:
//
//   - Line: a log line, a workflow command's message, a terminal line and
//     a per-image output line. Every control character is escaped, so the
//     text can neither end the line, start another (or a workflow command
//     on it), nor move the cursor, erase or recolour what a person reads.
//   - Cell: a cell of the Markdown table in the job summary. Line, and
//     Markdown's and HTML's own characters.
//
// Escaping is visible (\r, \x1b, \u202e) rather than silent: a reader sees
// that the registry sent something odd.
package safetext
