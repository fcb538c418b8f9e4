package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/disk"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/stagecache"
)

// FormatSalt is mixed into every build ID; bump it when a bug in an older
// bakery demands that all images be rebuilt.
const FormatSalt = "bakery-build-format-1"

// Options configure one build.
type Options struct {
	Recipe         *recipe.Recipe
	Mirror         string // resolved mirror (the recipe's, else the host's)
	SecurityMirror string
	WorkDir        string // parent of build workspaces
	TreeDir        string // parent of root trees; empty = inside the workspace
	ImagesDir      string // friendly links NAME/NAME.qcow2 to the stored artifacts
	Catalog        catalog.Catalog
	Store          artifact.Store
	Runner         runner.Runner
	Logger         *slog.Logger
	Progress       progress.Sink
	Now            func() time.Time
	RecipeDir      string     // relative config repositories and elements/ are found from here
	ElementsPath   []string   // element directories searched first (ELEMENTS_PATH, --elements-path)
	CacheDir       string     // kept between builds: git mirrors and exported config trees
	Lock           *lock.Lock // the recipe's lock: install exactly its packages, from the input archive
	InputsDir      string     // the input archive (state directory), for locked builds
	KeyDir         string     // the local repository key (state directory), for locked builds
	RecipeFile     string     // the recipe file, recorded in the provenance
	BakeryVersion  string     // bakery's own version, recorded in the provenance

	// StageCache keeps a locked build's bootstrapped tree between builds; nil = off.
	StageCache *stagecache.Cache
}

// Result is a recorded image and where its files are.
type Result struct {
	Image catalog.Image
	Paths map[string]string // artifact kind → path users can open
}

// Tools are the host programs a build runs.
func Tools() []string {
	return append([]string{"mmdebstrap", "tar", "zstd"}, disk.Tools()...)
}

// Prepare resolves everything a plan needs (serial, identity, tool
// versions) and returns the parameters and the plan.
func Prepare(ctx context.Context, o Options) (Params, Plan, error) {
	now := o.Now().UTC()
	r := o.Recipe
	prefix := now.Format("2006010215")
	used, err := o.Catalog.SerialsWithPrefix(ctx, r.Name, prefix)
	if err != nil {
		return Params{}, Plan{}, fmt.Errorf("choosing a serial: %w", err)
	}
	serial := catalog.NextSerial(now, used)
	tools := ToolVersions(ctx, o.Runner)
	p := Params{
		Recipe: r, Mirror: o.Mirror, SecurityMirror: o.SecurityMirror,
		SourceDateEpoch: now.Unix(), Created: now, Started: now, Tools: tools,
		Lock: o.Lock, InputsDir: o.InputsDir, KeyDir: o.KeyDir, RecipeDir: o.RecipeDir,
		RecipeFile: o.RecipeFile, BakeryVersion: o.BakeryVersion,
	}
	if err := resolveInputs(ctx, o, &p); err != nil {
		return Params{}, Plan{}, err
	}
	if err := applyLock(&p); err != nil {
		return Params{}, Plan{}, err
	}
	for _, d := range ToolDrift(p) {
		o.Logger.Warn("tool version differs from the lock; outputs may not match a build made with the locked tools", "tool", d)
	}
	named, err := imageVersion(r, p.Config) // version: config takes the tree's tag
	if err != nil {
		return Params{}, Plan{}, err
	}
	p.Identity = Identity{
		Name: named.ImageName(serial), Product: r.Name, Version: named.Version, Serial: serial,
		Distro: r.Distro, Release: r.Release, Arch: r.Arch,
	}
	if p.Config != nil {
		p.Identity.ConfigRef, p.Identity.ConfigCommit = p.Config.Ref, p.Config.Commit
	}
	if p.Identity.BuildID, err = buildID(p); err != nil {
		return Params{}, Plan{}, err
	}
	mirror, security := lockedSources(p)
	p.CacheState = bootstrapCacheState(o.StageCache, bootstrapStage(p, mirror, security).CacheKey)
	return p, NewPlan(p), nil
}

// resolveInputs pins the config tree and finds the elements (the parts of
// a future lock that come from outside the recipe).
func resolveInputs(ctx context.Context, o Options, p *Params) error {
	var err error
	if p.Config, err = ResolveConfig(ctx, o); err != nil {
		return err
	}
	p.Elements, p.ElementsPath, err = resolveElements(o)
	return err
}

// BuildID identifies one build: the salt, the recipe, the image's name and
// the tool versions. (With a lock, the lock replaces name and tools.)
func BuildID(r *recipe.Recipe, id Identity, tools map[string]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", FormatSalt, r.Canonical(), id.Name)
	keys := make([]string, 0, len(tools))
	for k := range tools {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, tools[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Run builds the image and records it. On failure or interruption the
// workspace is removed and nothing is recorded.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := runner.Require(Tools()...); err != nil {
		return Result{}, err
	}
	params, plan, err := Prepare(ctx, o)
	if err != nil {
		return Result{}, err
	}
	return Execute(ctx, o, params, plan)
}

// Execute runs a prepared plan in a new workspace and records the image.
// On failure or interruption the workspace is removed and nothing is
// recorded.
func Execute(ctx context.Context, o Options, params Params, plan Plan) (Result, error) {
	if err := runner.Require(Tools()...); err != nil {
		return Result{}, err
	}
	ws, err := o.workspace()
	if err != nil {
		return Result{}, err
	}
	res, err := runPlan(ctx, ws, plan, params, o)
	if cerr := ws.Cleanup(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("cleaning up workspace: %w", cerr))
	}
	return res, err
}

// workspace makes the workspace a build (or a verifying rebuild) runs in.
func (o Options) workspace() (*Workspace, error) {
	ws, err := NewWorkspace(o.WorkDir, o.TreeDir, o.Runner, o.Logger, o.Progress)
	if err != nil {
		return nil, err
	}
	ws.StageCache = o.StageCache
	return ws, nil
}

func runPlan(ctx context.Context, ws *Workspace, plan Plan, p Params, o Options) (Result, error) {
	if err := runStages(ctx, ws, plan, o.Progress); err != nil {
		return Result{}, err
	}
	return record(ctx, ws, p, o)
}

// runStages runs the plan's stages in order, reporting each as progress.
func runStages(ctx context.Context, ws *Workspace, plan Plan, sink progress.Sink) error {
	for _, s := range plan.Stages {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("build interrupted before %s: %w", s.Name(), err)
		}
		done := progress.Stage(sink, s.Name())
		err := s.Run(ctx, ws)
		done(err)
		if err != nil {
			return fmt.Errorf("stage %s: %w", s.Name(), err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("build interrupted: %w", err)
	}
	return nil
}

// ToolVersions asks each host tool for its version (first line).
func ToolVersions(ctx context.Context, r runner.Runner) map[string]string {
	probes := map[string][]string{
		"mmdebstrap": {"mmdebstrap", "--version"},
		"e2fsprogs":  {"mkfs.ext4", "-V"},
		"grub":       {"grub-mkimage", "--version"},
		"qemu-img":   {"qemu-img", "--version"},
		"mtools":     {"mformat", "--version"},
		"sfdisk":     {"sfdisk", "--version"},
	}
	out := map[string]string{}
	for name, argv := range probes {
		var stderr bytes.Buffer // mkfs.ext4 -V prints to stderr
		b, _ := r.Run(ctx, runner.Cmd{Args: argv, Stderr: &stderr})
		out[name] = firstLine(string(b) + "\n" + stderr.String())
	}
	return out
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// treeParentMinFree is how much free space a tmpfs needs to hold a tree.
const treeParentMinFree = 8 << 30

// DefaultTreeDir returns /dev/shm when it is a tmpfs with room for a root
// tree, else "" (the tree stays in the workspace).
func DefaultTreeDir() string {
	if free, err := freeBytes("/dev/shm"); err == nil && free >= treeParentMinFree {
		return "/dev/shm"
	}
	return ""
}
