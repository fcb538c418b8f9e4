// Package build turns a recipe into a golden image. The plan (an ordered list
// of typed stages) is data computed without I/O; Run executes it in a
// workspace and undoes everything when a stage fails or the build is
// interrupted.
package build

import (
	"context"
)

// Stage is one step of a build.
type Stage interface {
	Name() string                                 // stable: used in plans, logs and progress
	Run(ctx context.Context, ws *Workspace) error // errors are returned, never stashed
}

// Describer is implemented by stages whose parameters belong in the plan
// document (argv, paths relative to the workspace, settings).
type Describer interface {
	Describe() map[string]any
}
