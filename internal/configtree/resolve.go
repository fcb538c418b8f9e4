// Package configtree bakes a configuration-management (Puppet) tree into an
// image: it resolves a git repository's tag, branch or commit to a commit,
// installs the modules its Puppetfile pins (from git repositories or local
// directories and tarballs, their metadata.json dependencies checked),
// copies the result into the image root, runs `puppet apply` inside the
// image and reads the tree's service matrix.
//
// Resolution needs no internet: repositories may be local paths. Every
// clone and export lives in a cache directory; an export is made once per
// commit and never changed afterwards.
package configtree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bakery-dev/bakery/internal/runner"
)

// Options configure resolution.
type Options struct {
	CacheDir string // git mirrors and exported trees; kept between builds
	Runner   runner.Runner
	Logger   *slog.Logger
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.CacheDir == "" || o.Runner == nil {
		return errors.New("configtree: CacheDir and Runner are required")
	}
	return nil
}

// Source is where a tree comes from: a git URL or local path, and a ref.
type Source struct {
	Repo string
	Ref  string
}

// Tree is a config tree pinned to a commit, its Puppetfile's modules pinned.
type Tree struct {
	Repo    string
	Ref     string
	Commit  string
	Tag     string // `git describe --tags` at Commit; "" when no tag
	Dir     string // the exported tree (read-only, in the cache)
	Modules []Module
}

// Version is the tree's tag as an image version ("v1.2.0" → "1.2.0").
func (t *Tree) Version() string { return versionFromTag(t.Tag) }

// Resolve pins src to a commit, exports it and resolves its Puppetfile.
func Resolve(ctx context.Context, o Options, src Source) (*Tree, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	g := git{cache: o.CacheDir, runner: o.Runner}
	commit, dir, err := checkout(ctx, g, src.Repo, src.Ref)
	if err != nil {
		return nil, err
	}
	mirror := g.mirrorDir(src.Repo)
	t := &Tree{Repo: src.Repo, Ref: src.Ref, Commit: commit, Tag: g.describe(ctx, mirror, commit), Dir: dir}
	if t.Modules, err = resolvePuppetfile(ctx, g, dir); err != nil {
		return nil, fmt.Errorf("resolving the Puppetfile of %s at %s: %w", src.Repo, src.Ref, err)
	}
	return t, nil
}

// checkout mirrors repo, resolves ref and exports that commit.
func checkout(ctx context.Context, g git, repo, ref string) (commit, dir string, err error) {
	mirror, err := g.mirror(ctx, repo)
	if err != nil {
		return "", "", err
	}
	if commit, err = g.resolve(ctx, repo, mirror, ref); err != nil {
		return "", "", err
	}
	dir, err = g.export(ctx, mirror, commit)
	return commit, dir, err
}

// PuppetfileName is the file a tree pins its modules in.
const PuppetfileName = "Puppetfile"

// readPuppetfile parses the tree's Puppetfile; nil when it has none.
func readPuppetfile(dir string) (*Puppetfile, error) {
	data, err := os.ReadFile(filepath.Join(dir, PuppetfileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Puppetfile: %w", err)
	}
	return ParsePuppetfile(PuppetfileName, data)
}

func resolvePuppetfile(ctx context.Context, g git, dir string) ([]Module, error) {
	pf, err := readPuppetfile(dir)
	if err != nil || pf == nil {
		return nil, err
	}
	var mods []Module
	for _, spec := range pf.Modules {
		m, err := resolveModule(ctx, g, dir, spec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: module %s: %w", PuppetfileName, spec.Line, spec.Name, err)
		}
		mods = append(mods, m)
	}
	return mods, CheckDependencies(mods)
}
