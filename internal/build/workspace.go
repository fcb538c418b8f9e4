package build

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/bakery-dev/bakery/internal/disk"
	"github.com/bakery-dev/bakery/internal/hygiene"
	"github.com/bakery-dev/bakery/internal/manifest"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/stagecache"
)

// Workspace is the scratch area of one build and what its stages produce.
// Stages communicate only through its named fields.
type Workspace struct {
	Dir      string // root of the workspace; removed when the build ends
	Tree     string // the image's root tree
	Runner   runner.Runner
	Logger   *slog.Logger
	Progress progress.Sink
	// StageCache keeps stage results between builds; nil disables it.
	StageCache *stagecache.Cache

	Packages  []manifest.Package // installed packages, read from the tree
	Hygiene   hygiene.Report
	Layout    disk.Layout
	RawDisk   string   // the assembled raw disk (always made; an output only if asked for)
	Artifacts []Output // files made by the build, in the order they were made

	undo     []func() error
	digestMu sync.Mutex
	digests  map[string]digested // output path → digest, see Digest
}

// Output is one file a build produced, before it is stored.
type Output struct {
	Kind     string // qcow2, raw, rootfs-tar, manifest, sbom
	Filename string // name users see, e.g. NAME.qcow2
	Path     string // where it is in the workspace
}

// NewWorkspace creates a fresh workspace directory under parent. The root
// tree goes under treeParent when it is set (a tmpfs makes the many small
// writes of a bootstrap and mkfs much faster), else inside the workspace.
func NewWorkspace(parent, treeParent string, r runner.Runner, log *slog.Logger, sink progress.Sink) (*Workspace, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating workspace parent %s: %w", parent, err)
	}
	dir, err := os.MkdirTemp(parent, "build-")
	if err != nil {
		return nil, fmt.Errorf("creating workspace: %w", err)
	}
	// mmdebstrap's apt downloads as user _apt: the path must be traversable.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating workspace: %w", err)
	}
	ws := &Workspace{Dir: dir, Tree: filepath.Join(dir, "tree"), Runner: r, Logger: log, Progress: sink}
	ws.OnUndo(func() error { return removeTree(dir) })
	if treeParent != "" {
		tdir, err := os.MkdirTemp(treeParent, "bakery-tree-")
		if err != nil {
			_ = ws.Cleanup()
			return nil, fmt.Errorf("creating tree directory: %w", err)
		}
		if err := os.Chmod(tdir, 0o755); err != nil {
			_ = ws.Cleanup()
			return nil, fmt.Errorf("creating tree directory: %w", err)
		}
		ws.Tree = filepath.Join(tdir, "tree")
		ws.OnUndo(func() error { return removeTree(tdir) })
	}
	return ws, nil
}

// Path returns a path inside the workspace.
func (ws *Workspace) Path(name string) string { return filepath.Join(ws.Dir, name) }

// OnUndo registers fn to run when the workspace is cleaned up; hooks run in
// reverse order of registration.
func (ws *Workspace) OnUndo(fn func() error) { ws.undo = append(ws.undo, fn) }

// Cleanup runs every undo hook and reports the errors it met.
func (ws *Workspace) Cleanup() error {
	var errs []error
	for i := len(ws.undo) - 1; i >= 0; i-- {
		if err := ws.undo[i](); err != nil {
			errs = append(errs, err)
		}
	}
	ws.undo = nil
	return errors.Join(errs...)
}

// AddOutput records a produced file.
func (ws *Workspace) AddOutput(kind, filename, path string) {
	ws.Artifacts = append(ws.Artifacts, Output{Kind: kind, Filename: filename, Path: path})
}

// Output returns the produced file of a kind.
func (ws *Workspace) Output(kind string) (Output, bool) {
	for _, o := range ws.Artifacts {
		if o.Kind == kind {
			return o, true
		}
	}
	return Output{}, false
}
