package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/recipe"
)

// LockInputs are the recipe's inputs a lock is resolved from and checked
// against: release, architecture, kernel, the base set and every other
// package the bootstrap installs (the recipe's, its elements' and its
// config tree's).
func LockInputs(p Params) lock.Inputs {
	r := p.Recipe
	pkgs := append([]string{}, r.Packages...)
	pkgs = append(pkgs, element.PackageNames(p.Elements)...)
	pkgs = append(pkgs, configPackages(r.Config)...)
	return lock.Inputs{
		Distro: r.Distro, Release: r.Release, Arch: r.Arch, Components: []string{"main"},
		Kernel: r.Kernel, BasePackages: append([]string{}, BasePackages...), Packages: pkgs,
	}
}

// applyLock checks that the lock still matches the recipe and takes the
// build's clock from it. Without a lock it does nothing.
func applyLock(p *Params) error {
	if p.Lock == nil {
		return nil
	}
	if err := CheckLock(*p, p.Lock); err != nil {
		return err
	}
	epoch, err := p.Lock.SourceDateEpoch()
	if err != nil {
		return fmt.Errorf("reading lock: %w", err)
	}
	p.SourceDateEpoch = epoch
	return nil
}

// buildID is LockedBuildID for a locked build, else BuildID.
func buildID(p Params) (string, error) {
	if p.Lock == nil {
		return BuildID(p.Recipe, p.Identity, p.Tools), nil
	}
	return LockedBuildID(p.Lock, p.Recipe)
}

// ToolDrift lists the tools whose host version differs from the lock's:
// the build still runs, but its outputs may differ from the locked ones.
func ToolDrift(p Params) []string {
	if p.Lock == nil {
		return nil
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(p.Lock.Tools)) {
		if host := p.Tools[name]; host != p.Lock.Tools[name] {
			out = append(out, fmt.Sprintf("%s: lock has %q, host has %q", name, p.Lock.Tools[name], host))
		}
	}
	return out
}

// LockedBuildID identifies a locked build: the salt, the canonical lock and
// the recipe fields that shape the image (all but where packages are
// fetched from and which tests run). Two builds with the same ID are meant
// to be identical, bit for bit.
func LockedBuildID(l *lock.Lock, r *recipe.Recipe) (string, error) {
	digest, err := l.Digest()
	if err != nil {
		return "", err
	}
	shape, err := recipeShape(r)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", FormatSalt, digest, shape)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func recipeShape(r *recipe.Recipe) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(r.Canonical(), &m); err != nil {
		return nil, fmt.Errorf("reading canonical recipe: %w", err)
	}
	for _, k := range []string{"mirror", "security_mirror", "tests"} {
		delete(m, k)
	}
	return json.Marshal(m) // map keys sorted
}

// lockedSources points the image's apt sources at the archives the lock was
// resolved from (the bootstrap itself installs from the local repository).
func lockedSources(p Params) (mirror, security string) {
	mirror, security = p.Mirror, p.SecurityMirror
	if p.Lock == nil {
		return mirror, security
	}
	r := p.Recipe
	if s, ok := p.Lock.Suite(r.Release); ok {
		mirror = s.URI
	}
	if s, ok := p.Lock.Suite(r.Release + "-security"); ok {
		security = s.URI
	}
	return mirror, security
}

// CheckLock reports, as an error wrapping lock.ErrStale, whether the lock
// no longer matches the recipe: its package inputs, or the config tree and
// elements as they resolve now (a moved tag, a changed element).
func CheckLock(p Params, l *lock.Lock) error {
	if err := l.CheckInputs(LockInputs(p)); err != nil {
		return err
	}
	config, elements, err := pinned(p)
	if err != nil {
		return err
	}
	var diffs []string
	if !sameJSON(l.Config, config) {
		diffs = append(diffs, fmt.Sprintf("config tree: lock pins %s, the recipe now resolves to %s", compactJSON(l.Config), compactJSON(config)))
	}
	if !sameJSON(l.Elements, elements) {
		diffs = append(diffs, fmt.Sprintf("elements: lock pins %s, the recipe now resolves to %s", compactJSON(l.Elements), compactJSON(elements)))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w (%s)", lock.ErrStale, strings.Join(diffs, "; "))
	}
	return nil
}

// PinConfig records the resolved config tree (commit of the tree and of
// each Puppetfile module) and elements (content digests) in the lock.
func PinConfig(p Params, l *lock.Lock) error {
	config, elements, err := pinned(p)
	if err != nil {
		return err
	}
	l.Config, l.Elements = config, elements
	return nil
}

// pinned renders the config tree's and elements' lock records; "{}" when a
// recipe has none.
func pinned(p Params) (config, elements json.RawMessage, err error) {
	config, elements = json.RawMessage("{}"), json.RawMessage("{}")
	if p.Config != nil {
		if config, err = json.Marshal(p.Config.Lock()); err != nil {
			return nil, nil, fmt.Errorf("encoding the config tree's lock: %w", err)
		}
	}
	if len(p.Elements) > 0 {
		if elements, err = json.Marshal(element.Lock(p.Elements)); err != nil {
			return nil, nil, fmt.Errorf("encoding the elements' lock: %w", err)
		}
	}
	return config, elements, nil
}

// compactJSON renders a lock record with sorted keys and no spaces, as
// the lock's canonical encoding may reorder what json.Marshal wrote.
func compactJSON(raw json.RawMessage) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return "{}"
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(out)
}

func sameJSON(a, b json.RawMessage) bool { return compactJSON(a) == compactJSON(b) }
