package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/provenance"
	"github.com/bakery-dev/bakery/internal/recipe"
)

func runVerify(ctx context.Context, g *globals, args []string) error {
	var f buildFlags
	fs := g.flagSet("verify", "bakery verify [flags] IMAGE (rebuild IMAGE from its stored lock and recipe in a scratch directory and compare; exit 0 identical, 1 different)")
	fs.StringVar(&f.treeDir, "tree-dir", "", "where the root tree is made (default /dev/shm when it has room; env BAKERY_TREE_DIR)")
	fs.StringVar(&f.aptDir, "apt-config", "/etc/apt", "host apt configuration to take the default mirror from (only for packages missing from the input archive)")
	fs.StringVar(&f.elements, "elements-path", "", "colon-separated element directories searched first (default: where the build found them, from its provenance)")
	if err := parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if len(pos) != 1 {
		return usagef("verify needs exactly one image name (got %d arguments)", len(pos))
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	img, err := st.catalog.GetImage(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("finding image %s: %w", pos[0], err)
	}
	o, err := storedBuild(ctx, g, f, st, img)
	if err != nil {
		return err
	}
	rep, err := verifyInScratch(ctx, st, o, img)
	if err != nil {
		return err
	}
	return reportVerify(g, rep)
}

// storedBuild makes the options that rebuild img: its stored lock and
// recipe, and the recipe directory and element path its provenance names.
func storedBuild(ctx context.Context, g *globals, f buildFlags, st *stateHandles, img catalog.Image) (build.Options, error) {
	data, err := readArtifact(ctx, st, img, catalog.KindLock)
	if errors.Is(err, errNoArtifact) {
		return build.Options{}, usagef("%s was built without a lock: nothing pins its inputs, so it cannot be rebuilt bit for bit", img.Name)
	}
	if err != nil {
		return build.Options{}, err
	}
	l, err := lock.Decode(data)
	if err != nil {
		return build.Options{}, fmt.Errorf("reading the lock of %s: %w", img.Name, err)
	}
	r, err := storedRecipe(g, img)
	if err != nil {
		return build.Options{}, err
	}
	if err := fromProvenance(ctx, st, img, &f); err != nil {
		return build.Options{}, err
	}
	o, err := buildOptions(g, f, r, st)
	o.Lock = l
	return o, err
}

// storedRecipe is the image's recorded recipe (with BAKERY_* overrides, as
// for build) without its tests: they do not shape the image.
func storedRecipe(g *globals, img catalog.Image) (*recipe.Recipe, error) {
	r, err := recipe.Parse(img.Name+" (recorded recipe)", img.Recipe)
	if err != nil {
		return nil, err
	}
	if d := r.Digest(); d != img.RecipeDigest {
		return nil, fmt.Errorf("the recorded recipe of %s has digest %s, the catalog says %s", img.Name, d, img.RecipeDigest)
	}
	if err := r.ApplyEnv(g.getenv); err != nil {
		return nil, err
	}
	r.Tests = nil
	return r, nil
}

// fromProvenance takes the recipe's directory and file (relative config
// repositories and elements/ are found from there) and the element path
// from the image's provenance.
func fromProvenance(ctx context.Context, st *stateHandles, img catalog.Image, f *buildFlags) error {
	data, err := readArtifact(ctx, st, img, catalog.KindProvenance)
	if errors.Is(err, errNoArtifact) {
		return nil
	}
	if err != nil {
		return err
	}
	s, err := provenance.Parse(data)
	if err != nil {
		return fmt.Errorf("reading the provenance of %s: %w", img.Name, err)
	}
	ext := s.Predicate.BuildDefinition.ExternalParameters
	f.recipeDir, f.recipePath = ext.Recipe.Dir, ext.Recipe.Path
	if f.elements == "" {
		f.elements = strings.Join(ext.ElementsPath, ":")
	}
	return nil
}

var errNoArtifact = errors.New("no such artifact")

// readArtifact reads the image's (small) artifact of a kind.
func readArtifact(ctx context.Context, st *stateHandles, img catalog.Image, kind string) ([]byte, error) {
	for _, a := range img.Artifacts {
		if a.Kind != kind {
			continue
		}
		rc, err := st.store.Open(ctx, a.Digest)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", a.Filename, err)
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	return nil, fmt.Errorf("%s of %s: %w", kind, img.Name, errNoArtifact)
}

// verifyInScratch rebuilds img with o in a scratch directory under the
// state's work directory, removed afterwards (also when interrupted).
func verifyInScratch(ctx context.Context, st *stateHandles, o build.Options, img catalog.Image) (build.VerifyReport, error) {
	parent := filepath.Join(st.dir, "work")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return build.VerifyReport{}, err
	}
	scratch, err := os.MkdirTemp(parent, "verify-")
	if err != nil {
		return build.VerifyReport{}, fmt.Errorf("creating scratch directory: %w", err)
	}
	defer os.RemoveAll(scratch)
	o.WorkDir = scratch
	rep, err := build.Verify(ctx, o, img)
	if errors.Is(err, lock.ErrStale) {
		return rep, fmt.Errorf("%w: an input the lock pins has moved (a config tree tag, an element), so the image cannot be rebuilt from it", err)
	}
	return rep, err
}

// reportVerify prints the report; a rebuild that differs is an error
// (exit 1).
func reportVerify(g *globals, rep build.VerifyReport) error {
	if g.json {
		if err := printJSON(g, rep); err != nil {
			return err
		}
	} else {
		printVerify(g, rep)
	}
	if !rep.Identical {
		return fmt.Errorf("%s does not rebuild identically", rep.Image)
	}
	return nil
}

func printVerify(g *globals, rep build.VerifyReport) {
	w := g.stdout
	verdict := "identical"
	if !rep.Identical {
		verdict = "DIFFERENT"
	}
	fmt.Fprintf(w, "image:    %s\nbuild id: %s\nrebuilt:  %s (in %.1f s, not recorded)\n\n", rep.Image, rep.BuildID, verdict, rep.RebuildSeconds)
	for _, c := range rep.Outputs {
		if c.Identical {
			fmt.Fprintf(w, "  %-10s identical  sha256 %s\n", c.Kind, build.Checksum(c.Recorded))
			continue
		}
		fmt.Fprintf(w, "  %-10s DIFFERENT  recorded sha256 %s\n  %-10s            rebuilt  sha256 %s\n", c.Kind, build.Checksum(c.Recorded), "", orDash(build.Checksum(c.Rebuilt)))
	}
	if rep.TreeCompared {
		fmt.Fprintf(w, "\nroot tree: %d paths differ", rep.DifferentFiles)
		if rep.DifferentFiles > len(rep.Differences) {
			fmt.Fprintf(w, " (the first %d)", len(rep.Differences))
		}
		fmt.Fprintln(w, ":")
		for _, d := range rep.Differences {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
}
