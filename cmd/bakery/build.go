package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
)

type buildFlags struct {
	printRecipe bool
	plan        bool
	test        bool
	treeDir     string
	aptDir      string
	elements    string // --elements-path
	recipeDir   string
	recipePath  string
	noLock      bool // --no-lock: ignore RECIPE.lock
	rebuild     bool // --rebuild: build a recorded locked build again and compare
	cache       cacheFlags
}

func runBuild(ctx context.Context, g *globals, args []string) error {
	var f buildFlags
	fs := g.flagSet("build", "bakery build [flags] RECIPE")
	fs.BoolVar(&f.printRecipe, "print-recipe", false, "print the effective recipe (after BAKERY_* overrides) and exit")
	fs.BoolVar(&f.plan, "plan", false, "print the build plan as JSON and exit")
	fs.BoolVar(&f.test, "test", false, "boot-test the image under QEMU right after the build")
	fs.StringVar(&f.treeDir, "tree-dir", "", "where root trees are made (default /dev/shm when it has room, else the state directory; env BAKERY_TREE_DIR)")
	fs.StringVar(&f.aptDir, "apt-config", "/etc/apt", "host apt configuration to take the default mirror from")
	fs.BoolVar(&f.noLock, "no-lock", false, "ignore the recipe's lock file (RECIPE.lock) and resolve packages from the mirror")
	fs.BoolVar(&f.rebuild, "rebuild", false, "when the catalog already has this locked build (same build ID), build it again in a scratch directory and compare with the recorded image instead of reusing it (nothing is recorded; exit 1 if it differs)")
	f.cache.register(fs)
	fs.StringVar(&f.elements, "elements-path", "", "colon-separated element directories searched first (env ELEMENTS_PATH); then elements/ beside the recipe and at the top of its repository")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("build needs exactly one recipe file (got %d arguments)", fs.NArg())
	}
	f.recipePath, f.recipeDir = fs.Arg(0), absPath(filepath.Dir(fs.Arg(0)))
	r, err := loadRecipe(g, fs.Arg(0))
	if err != nil {
		return err
	}
	if f.printRecipe {
		_, err := g.stdout.Write(r.YAML())
		return err
	}
	return bakeImage(ctx, g, f, r)
}

func loadRecipe(g *globals, path string) (*recipe.Recipe, error) {
	r, err := recipe.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("reading recipe: %v", err)
	}
	if err != nil {
		return nil, err
	}
	if err := r.ApplyEnv(g.getenv); err != nil {
		return nil, err
	}
	return r, nil
}

func bakeImage(ctx context.Context, g *globals, f buildFlags, r *recipe.Recipe) error {
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	o, err := buildOptions(g, f, r, st)
	if err != nil {
		return err
	}
	if o.Lock, err = recipeLock(f); err != nil {
		return err
	}
	p, plan, err := build.Prepare(ctx, o)
	if err != nil {
		return staleLock(err, f)
	}
	if f.plan {
		return printJSON(g, plan)
	}
	existing, found, err := build.Reusable(ctx, st.catalog, st.store, p)
	if err != nil {
		return err
	}
	var res build.Result
	switch {
	case found && f.rebuild:
		return rebuildRecorded(ctx, g, st, o, existing)
	case found:
		res, err = reuse(g, st, existing)
	default:
		if res, err = build.Execute(ctx, o, p, plan); err == nil {
			err = printBuilt(g, res, false)
		}
	}
	if err != nil {
		return err
	}
	if f.test {
		return bootTest(ctx, g, res.Image.Name, testFlags{}, st) // by name: the verdict is recorded and the stored recipe tests run
	}
	return nil
}

func buildOptions(g *globals, f buildFlags, r *recipe.Recipe, st *stateHandles) (build.Options, error) {
	mirror, security, err := mirrors(f.aptDir, r)
	if err != nil {
		return build.Options{}, err
	}
	tree := f.treeDir
	if v, ok := g.getenv("BAKERY_TREE_DIR"); ok && tree == "" {
		tree = v
	}
	if tree == "" {
		tree = build.DefaultTreeDir()
	}
	cache, err := openStageCache(g, f.cache, st.dir)
	if err != nil {
		return build.Options{}, err
	}
	return build.Options{
		Recipe: r, Mirror: mirror, SecurityMirror: security, RecipeFile: absPath(f.recipePath), BakeryVersion: version,
		WorkDir: filepath.Join(st.dir, "work"), TreeDir: tree, ImagesDir: filepath.Join(st.dir, "images"),
		Catalog: st.catalog, Store: st.store, Runner: runner.Exec{}, Logger: g.logger(),
		Progress: g.sink(), Now: time.Now,
		RecipeDir: f.recipeDir, ElementsPath: elementsPath(g, f.elements), CacheDir: filepath.Join(st.dir, "cache"),
		InputsDir: filepath.Join(st.dir, "inputs"), KeyDir: filepath.Join(st.dir, "keys"), StageCache: cache,
	}, nil
}

// elementsPath is --elements-path, else $ELEMENTS_PATH.
func elementsPath(g *globals, flagValue string) []string {
	if flagValue == "" {
		flagValue, _ = g.getenv("ELEMENTS_PATH")
	}
	return element.SplitPath(flagValue)
}

// mirrors returns the recipe's mirrors, falling back to the host's
// configured Debian mirror and security archive.
func mirrors(aptDir string, r *recipe.Recipe) (string, string, error) {
	sources, err := apt.ParseSources(aptDir)
	if err != nil {
		return "", "", fmt.Errorf("reading host apt sources: %w", err)
	}
	mirror, security, err := apt.HostMirrors(sources, r.Release)
	if err != nil {
		return "", "", err
	}
	if r.Mirror != "" {
		mirror = r.Mirror
	}
	if r.SecurityMirror != "" {
		security = r.SecurityMirror
	}
	return mirror, security, nil
}

func printJSON(g *globals, v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// reuse prints the recorded image of the same locked build instead of
// building it again.
func reuse(g *globals, st *stateHandles, img catalog.Image) (build.Result, error) {
	paths, _ := build.LinkImage(st.store, filepath.Join(st.dir, "images"), img)
	res := build.Result{Image: img, Paths: paths}
	g.sink().Emit(progress.Event{Time: time.Now(), Kind: progress.Info, Stage: "reuse",
		Message: fmt.Sprintf("the catalog already has this build (%s): reusing it; --rebuild builds it again and compares", img.Name)})
	return res, printBuilt(g, res, true)
}

// rebuildRecorded builds a recorded locked build again in a scratch
// directory and compares it with the recorded image; nothing is recorded.
func rebuildRecorded(ctx context.Context, g *globals, st *stateHandles, o build.Options, img catalog.Image) error {
	rep, err := verifyInScratch(ctx, st, o, img)
	if err != nil {
		return err
	}
	return reportVerify(g, rep)
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// printBuilt prints a built or reused image; --json says which ("reused").
func printBuilt(g *globals, res build.Result, reused bool) error {
	if g.json {
		return printJSON(g, map[string]any{"image": res.Image, "paths": res.Paths, "reused": reused})
	}
	img := res.Image
	fmt.Fprintf(g.stdout, "name:     %s\nversion:  %s\nserial:   %s\nbuild id: %s\n", img.Name, img.Version, img.Serial, img.BuildID)
	if reused {
		fmt.Fprintf(g.stdout, "reused:   built %s, not built again\n", img.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	}
	for _, a := range img.Artifacts {
		fmt.Fprintf(g.stdout, "%-9s %s\n          sha256 %s  (%s)\n", a.Kind+":", res.Paths[a.Kind], build.Checksum(a.Digest), humanSize(a.Size))
	}
	return nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
