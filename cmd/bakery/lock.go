package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
)

type lockFlags struct {
	update bool
	diff   bool
	build  buildFlags
}

func runLock(ctx context.Context, g *globals, args []string) error {
	var f lockFlags
	fs := g.flagSet("lock", "bakery lock [--update | --diff] RECIPE")
	fs.BoolVar(&f.update, "update", false, "resolve again and rewrite the lock even if it still matches the recipe")
	fs.BoolVar(&f.diff, "diff", false, "resolve again and print what would change (the image changelog) without writing")
	fs.StringVar(&f.build.aptDir, "apt-config", "/etc/apt", "host apt configuration to take the default mirror from")
	fs.StringVar(&f.build.elements, "elements-path", "", "colon-separated element directories searched first (env ELEMENTS_PATH)")
	if err := parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if len(pos) != 1 {
		return usagef("lock needs exactly one recipe file (got %d arguments)", len(pos))
	}
	file := pos[0]
	f.build.recipeDir = filepath.Dir(file)
	r, err := loadRecipe(g, file)
	if err != nil {
		return err
	}
	return lockRecipe(ctx, g, f, file, r)
}

// lockReport is what bakery lock prints with --json.
type lockReport struct {
	Path      string          `json:"path"`
	Written   bool            `json:"written"`
	UpToDate  bool            `json:"up_to_date"`
	Digest    string          `json:"digest"`
	BuildID   string          `json:"build_id"`
	Packages  int             `json:"packages"`
	ElapsedMS int64           `json:"resolve_ms,omitempty"`
	Changelog *lock.Changelog `json:"changelog,omitempty"`
}

func lockRecipe(ctx context.Context, g *globals, f lockFlags, file string, r *recipe.Recipe) error {
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := buildOptions(g, f.build, r, st)
	if err != nil {
		return err
	}
	p, _, err := build.Prepare(ctx, o) // unlocked: resolves config tree, elements and tools
	if err != nil {
		return err
	}
	path := lock.PathFor(file)
	old, err := loadExistingLock(path)
	if err != nil {
		return err
	}
	inputs := build.LockInputs(p)
	if old != nil && !f.update && !f.diff && build.CheckLock(p, old) == nil {
		return printLock(g, old, r, lockReport{Path: path, UpToDate: true})
	}
	start := time.Now()
	l, err := lock.Resolve(ctx, lock.Options{
		Inputs: inputs, Mirror: o.Mirror, SecurityMirror: o.SecurityMirror, Tools: p.Tools,
		WorkDir: o.WorkDir, Runner: runner.Exec{}, Logger: o.Logger,
	})
	if err != nil {
		return fmt.Errorf("locking %s: %w", file, err)
	}
	if err := build.PinConfig(p, l); err != nil {
		return err
	}
	rep := lockReport{Path: path, ElapsedMS: time.Since(start).Milliseconds()}
	if old != nil || f.diff {
		c := lock.Diff(orEmpty(old), l)
		rep.Changelog = &c
	}
	if !f.diff {
		if err := l.Write(path); err != nil {
			return err
		}
		rep.Written = true
	}
	return printLock(g, l, r, rep)
}

func orEmpty(l *lock.Lock) *lock.Lock {
	if l == nil {
		return &lock.Lock{}
	}
	return l
}

// loadExistingLock reads path, or returns nil when there is no lock.
func loadExistingLock(path string) (*lock.Lock, error) {
	l, err := lock.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, usagef("%v (fix it or delete it and run bakery lock)", err)
	}
	return l, nil
}

func printLock(g *globals, l *lock.Lock, r *recipe.Recipe, rep lockReport) error {
	var err error
	if rep.Digest, err = l.Digest(); err != nil {
		return err
	}
	if rep.BuildID, err = build.LockedBuildID(l, r); err != nil {
		return err
	}
	rep.Packages = len(l.Packages)
	if g.json {
		return printJSON(g, rep)
	}
	switch {
	case rep.UpToDate:
		fmt.Fprintf(g.stdout, "%s is up to date: %d packages (bakery lock --update resolves again)\n", rep.Path, rep.Packages)
	case rep.Written:
		fmt.Fprintf(g.stdout, "wrote %s: %d packages, resolved in %.1fs\n", rep.Path, rep.Packages, float64(rep.ElapsedMS)/1000)
	default:
		fmt.Fprintf(g.stdout, "%s would change as follows (not written):\n", rep.Path)
	}
	fmt.Fprintf(g.stdout, "lock:     %s\nbuild id: %s\n", rep.Digest, rep.BuildID)
	if rep.Changelog != nil {
		return rep.Changelog.WriteText(g.stdout)
	}
	return nil
}

// recipeLock loads the lock that belongs to a recipe file for a build:
// nil when there is none or --no-lock was given.
func recipeLock(f buildFlags) (*lock.Lock, error) {
	if f.noLock {
		return nil, nil
	}
	path := lock.PathFor(f.recipePath)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return loadExistingLock(path)
}

// staleLock turns a lock that no longer matches its recipe into a usage
// error (exit 2) that says what to run.
func staleLock(err error, f buildFlags) error {
	if errors.Is(err, lock.ErrStale) {
		return usagef("%s: %v: run 'bakery lock %s' to resolve it again (or build with --no-lock)", lock.PathFor(f.recipePath), err, f.recipePath)
	}
	return err
}
