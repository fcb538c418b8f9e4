package configtree

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakery-dev/bakery/internal/treehash"
)

// Module is a Puppetfile module pinned to a commit (git) or a content
// digest (a local directory or tarball).
type Module struct {
	Spec     ModuleSpec
	Name     string // install directory under modules/
	Commit   string // git modules
	SHA256   string // :path modules: "sha256:…" of the tarball or directory
	Version  string // metadata.json version; "" without metadata
	Requires []Dependency
	Dir      string // the module's files (in the cache or the tree)
}

// Source says where the module came from: its git URL or path.
func (m Module) Source() string {
	if m.Spec.Git != "" {
		return m.Spec.Git
	}
	return m.Spec.Path
}

// Dependency is one metadata.json dependency.
type Dependency struct {
	Name  string // as written ("puppetlabs/stdlib")
	Range string // version_requirement
}

// metadata is the part of metadata.json bakery reads.
type metadata struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Dependencies []struct {
		Name               string `json:"name"`
		VersionRequirement string `json:"version_requirement"`
	} `json:"dependencies"`
}

func resolveModule(ctx context.Context, g git, tree string, spec ModuleSpec) (Module, error) {
	m := Module{Spec: spec, Name: spec.InstallName()}
	var err error
	if spec.Git != "" {
		ref := spec.Ref
		if ref == "" {
			ref = "HEAD"
		}
		m.Commit, m.Dir, err = checkout(ctx, g, spec.Git, ref)
	} else {
		m.SHA256, m.Dir, err = localModule(ctx, g, tree, spec.Path)
	}
	if err != nil {
		return m, err
	}
	return m, m.readMetadata()
}

// localModule finds a :path module: a directory (hashed) or a tarball
// (hashed, then unpacked once into the cache).
func localModule(ctx context.Context, g git, tree, p string) (digest, dir string, err error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(tree, p)
		if !inside(tree, p) {
			return "", "", fmt.Errorf("path %s leaves the tree", p)
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", "", fmt.Errorf("reading module path: %w", err)
	}
	if fi.IsDir() {
		digest, err = treehash.Dir(p)
		return digest, p, err
	}
	if digest, err = hashFile(p); err != nil {
		return "", "", err
	}
	dir, err = g.unpack(ctx, p, digest)
	return digest, dir, err
}

func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// unpack extracts a module tarball once per digest and returns the module
// root: the single top-level directory (Forge tarballs have NAME-VERSION/)
// or the top itself.
func (g git) unpack(ctx context.Context, tarball, digest string) (string, error) {
	dest := filepath.Join(g.cache, "tarballs", strings.TrimPrefix(digest, "sha256:"))
	if _, err := os.Stat(dest); err != nil {
		if err := g.unpackNew(ctx, tarball, dest); err != nil {
			return "", err
		}
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return "", fmt.Errorf("reading unpacked %s: %w", tarball, err)
	}
	if len(entries) == 1 && entries[0].IsDir() {
		return filepath.Join(dest, entries[0].Name()), nil
	}
	return dest, nil
}

func (g git) unpackNew(ctx context.Context, tarball, dest string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("creating tarball cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".unpack-")
	if err != nil {
		return fmt.Errorf("creating tarball cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	// tar detects gzip, bzip2, xz and zstd compression itself.
	if _, err := g.run(ctx, untarArgs(tarball, tmp)); err != nil {
		return fmt.Errorf("unpacking %s: %w", tarball, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("caching %s: %w", tarball, err)
	}
	return nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// readMetadata reads the module's metadata.json, if it has one.
func (m *Module) readMetadata() error {
	data, err := os.ReadFile(filepath.Join(m.Dir, "metadata.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading metadata.json: %w", err)
	}
	var md metadata
	if err := json.Unmarshal(data, &md); err != nil {
		return fmt.Errorf("parsing metadata.json: %w", err)
	}
	m.Version = md.Version
	for _, d := range md.Dependencies {
		m.Requires = append(m.Requires, Dependency{Name: d.Name, Range: d.VersionRequirement})
	}
	return nil
}
