// Package action is the GitHub Actions front door: it reads the INPUT_*
// variables once into an engine.Config, masks secrets before anything is
// printed, logs with workflow commands (groups, notices, one ::error:: per
// failure), and writes the step outputs and the step summary.
package action
