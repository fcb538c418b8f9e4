package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
)

// ErrNoConfigTag is returned for `version: config` when the config tree's
// commit has no tag to take the version from.
var ErrNoConfigTag = errors.New("version: config needs a tag on the config tree")

// ConfigTree bakes the resolved config tree (Puppet code and the modules
// its Puppetfile pins) into the image, records its lock in the image and,
// with first_boot, installs the first-boot puppet apply.
type ConfigTree struct {
	Tree      *configtree.Tree
	Path      string                // where the tree goes in the image
	FirstBoot *configtree.ApplySpec // nil: no first-boot apply
}

func (ConfigTree) Name() string { return "config-tree" }

func (s ConfigTree) Describe() map[string]any {
	d := map[string]any{"repo": s.Tree.Repo, "ref": s.Tree.Ref, "commit": s.Tree.Commit, "path": s.Path,
		"modules": s.Tree.Lock().Modules}
	if s.FirstBoot != nil {
		var files []string
		for _, f := range configtree.FirstBootFiles(*s.FirstBoot) {
			files = append(files, f.Path)
		}
		d["first_boot_files"] = files
	}
	return d
}

func (s ConfigTree) Run(ctx context.Context, ws *Workspace) error {
	if err := configtree.Bake(ctx, ws.Runner, s.Tree, ws.Tree, s.Path); err != nil {
		return fmt.Errorf("baking config tree %s at %s: %w", s.Tree.Repo, s.Tree.Ref, err)
	}
	if s.FirstBoot == nil {
		return nil
	}
	for _, f := range configtree.FirstBootFiles(*s.FirstBoot) {
		if err := writeImageFile(ws.Tree, f); err != nil {
			return err
		}
	}
	return nil
}

func writeImageFile(tree string, f configtree.File) error {
	dir, err := configtree.SafeDir(tree, filepath.Dir(f.Path))
	if err != nil {
		return err
	}
	p := filepath.Join(dir, filepath.Base(f.Path))
	if f.Link != "" {
		_ = os.Remove(p)
		if err := os.Symlink(f.Link, p); err != nil {
			return fmt.Errorf("writing %s: %w", f.Path, err)
		}
		return nil
	}
	return writeTreeFile(tree, treeFile{path: f.Path, mode: f.Mode, content: f.Content})
}

// PuppetApply runs `puppet apply` inside the image with /proc mounted;
// Puppet's own error stops the build.
type PuppetApply struct {
	Spec configtree.ApplySpec
}

func (PuppetApply) Name() string { return "puppet-apply" }

func (s PuppetApply) Describe() map[string]any {
	return map[string]any{"argv": configtree.ChrootArgs("TREE", s.Spec.Args())}
}

func (s PuppetApply) Run(ctx context.Context, ws *Workspace) error {
	out := progressWriter(ws.Progress, s.Name())
	defer out.Close()
	return configtree.Apply(ctx, ws.Runner, ws.Tree, s.Spec, out)
}

// configStages bakes the tree and, when asked, applies it.
func configStages(p Params) []Stage {
	c := p.Recipe.Config
	if c == nil || p.Config == nil {
		return nil
	}
	stages := []Stage{ConfigTree{Tree: p.Config, Path: c.Path}}
	spec := applySpec(c)
	if c.FirstBoot {
		stages[0] = ConfigTree{Tree: p.Config, Path: c.Path, FirstBoot: &spec}
	}
	if c.Apply != nil {
		stages = append(stages, PuppetApply{Spec: spec})
	}
	return stages
}

func applySpec(c *recipe.Config) configtree.ApplySpec {
	s := configtree.ApplySpec{Path: c.Path}
	if c.Apply != nil {
		s.Manifest, s.Class, s.Params = c.Apply.Manifest, c.Apply.Class, c.Apply.Params
	}
	return s
}

// configPackages are the image packages the config section needs.
func configPackages(c *recipe.Config) []string {
	if c != nil && (c.Apply != nil || c.FirstBoot) {
		return []string{"puppet"}
	}
	return nil
}

// ResolveConfig pins the recipe's config tree: ref to commit, Puppetfile
// modules to commits and digests. Nil without a config section. It uses
// o.Recipe, RecipeDir, CacheDir, Runner and Logger.
func ResolveConfig(ctx context.Context, o Options) (*configtree.Tree, error) {
	r := o.Recipe
	if r.Config == nil {
		return nil, nil
	}
	if err := runner.Require("git", "tar", "cp"); err != nil {
		return nil, err
	}
	if c := r.Config; c.Apply != nil || c.FirstBoot {
		if err := applySpec(c).Validate(); err != nil {
			return nil, err
		}
	}
	copts := configtree.Options{CacheDir: filepath.Join(o.CacheDir, "config"), Runner: o.Runner, Logger: o.Logger}
	t, err := configtree.Resolve(ctx, copts, configtree.Source{Repo: r.ConfigRepo(o.RecipeDir), Ref: r.Config.Ref})
	if err != nil {
		return nil, fmt.Errorf("resolving config tree: %w", err)
	}
	return t, nil
}

// imageVersion is the recipe's version, or with `version: config` the
// config tree's tag, checked like a version written in the recipe.
func imageVersion(r *recipe.Recipe, t *configtree.Tree) (*recipe.Recipe, error) {
	if r.Version != recipe.VersionFromConfig {
		return r, nil
	}
	if t == nil || t.Version() == "" {
		return nil, fmt.Errorf("%w: %s at %s has none", ErrNoConfigTag, r.Config.Repo, r.Config.Ref)
	}
	rv := *r
	rv.Version = t.Version()
	if err := rv.Validate(); err != nil {
		return nil, fmt.Errorf("taking the version from tag %q of the config tree: %w", t.Tag, err)
	}
	return &rv, nil
}
