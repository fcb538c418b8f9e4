// Package lock resolves a recipe into a lock: every input of a build pinned
// to an exact, content-addressed value (the Release file of each suite, each
// package of the full dependency closure with its sha256, the tool
// versions). The lock is canonical JSON, so it can be reviewed in git, and
// its digest is part of the build ID. A lock diff is the image changelog.
package lock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bakery-dev/bakery/internal/atomicfile"
	"os"
	"slices"
	"strings"
)

// Format is the version of the lock file format.
const Format = 1

// ErrStale is wrapped by the error returned when a lock no longer matches
// its recipe.
var ErrStale = errors.New("lock does not match the recipe")

// Lock pins every input of a build.
type Lock struct {
	Format   int               `json:"format"`
	Inputs   Inputs            `json:"inputs"`
	Suites   []Suite           `json:"suites"`
	Packages []Package         `json:"packages"`
	Tools    map[string]string `json:"tools"`
	// Config and Elements are filled by the config tree and element
	// resolvers; empty objects until then.
	Config   json.RawMessage `json:"config"`
	Elements json.RawMessage `json:"elements"`
}

// Inputs are the recipe fields the package set was resolved from. A lock
// whose inputs differ from the recipe's is stale.
type Inputs struct {
	Distro       string   `json:"distro"`
	Release      string   `json:"release"`
	Arch         string   `json:"arch"`
	Components   []string `json:"components"`
	Kernel       string   `json:"kernel"`
	BasePackages []string `json:"base_packages"`
	Packages     []string `json:"packages"`
}

// Suite is one apt suite the packages come from.
type Suite struct {
	Name            string `json:"name"` // bookworm, bookworm-updates, bookworm-security
	URI             string `json:"uri"`  // the archive root it was resolved from
	Codename        string `json:"codename"`
	Version         string `json:"version,omitempty"`
	Date            string `json:"date"` // RFC 3339, UTC: the Release file's Date
	InReleaseSHA256 string `json:"inrelease_sha256"`
}

// Package is one installed package, pinned by digest.
type Package struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	SHA256       string `json:"sha256"`
	Size         int64  `json:"size"`
	Filename     string `json:"filename"` // pool path relative to the suite's archive root
	Suite        string `json:"suite"`
}

// Key identifies the package build: name and architecture.
func (p Package) Key() string { return p.Name + ":" + p.Architecture }

// Digest is the package's content digest in artifact form.
func (p Package) Digest() string { return "sha256:" + p.SHA256 }

// Normalize sorts and fills the lock so that equal content encodes to equal
// bytes.
func (l *Lock) Normalize() {
	l.Format = Format
	slices.SortFunc(l.Packages, func(a, b Package) int {
		return strings.Compare(a.Name+"\x00"+a.Architecture, b.Name+"\x00"+b.Architecture)
	})
	l.Inputs.BasePackages = sortedUnique(l.Inputs.BasePackages)
	l.Inputs.Packages = sortedUnique(l.Inputs.Packages)
	if l.Inputs.Components == nil {
		l.Inputs.Components = []string{}
	}
	if l.Tools == nil {
		l.Tools = map[string]string{}
	}
	if len(l.Config) == 0 {
		l.Config = json.RawMessage("{}")
	}
	if len(l.Elements) == 0 {
		l.Elements = json.RawMessage("{}")
	}
}

func sortedUnique(in []string) []string {
	out := slices.Compact(slices.Sorted(slices.Values(in)))
	if out == nil {
		out = []string{}
	}
	return out
}

// Encode returns the canonical form: JSON with every object's keys sorted,
// two-space indentation, no HTML escaping and a trailing newline.
func (l *Lock) Encode() ([]byte, error) {
	c := *l
	c.Packages = slices.Clone(l.Packages)
	c.Normalize()
	raw, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encoding lock: %w", err)
	}
	return Canonical(raw)
}

// Canonical re-encodes any JSON document with sorted keys, exact numbers,
// two-space indentation and a trailing newline.
func Canonical(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonicalizing JSON: %w", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return nil, fmt.Errorf("canonicalizing JSON: %w", err)
	}
	return b.Bytes(), nil
}

// Digest is "sha256:" and the hex SHA-256 of the canonical encoding.
func (l *Lock) Digest() (string, error) {
	b, err := l.Encode()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Decode parses a lock file strictly (unknown fields are errors).
func Decode(data []byte) (*Lock, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("decoding lock: %w", err)
	}
	if l.Format != Format {
		return nil, fmt.Errorf("decoding lock: format %d, this bakery reads format %d (run bakery lock --update)", l.Format, Format)
	}
	if err := l.validate(); err != nil {
		return nil, fmt.Errorf("decoding lock: %w", err)
	}
	l.Normalize()
	return &l, nil
}

func (l *Lock) validate() error {
	suites := map[string]bool{}
	for _, s := range l.Suites {
		suites[s.Name] = true
	}
	for _, p := range l.Packages {
		if p.Name == "" || p.Version == "" || p.Architecture == "" || p.Filename == "" {
			return fmt.Errorf("package %q: name, version, architecture and filename are required", p.Name)
		}
		if len(p.SHA256) != 64 || strings.Trim(p.SHA256, "0123456789abcdef") != "" {
			return fmt.Errorf("package %s %s: bad sha256 %q", p.Name, p.Version, p.SHA256)
		}
		if !suites[p.Suite] {
			return fmt.Errorf("package %s %s: unknown suite %q", p.Name, p.Version, p.Suite)
		}
	}
	return nil
}

// Load reads and decodes a lock file.
func Load(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading lock: %w", err)
	}
	l, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Write stores the lock at path atomically (temp file, fsync, rename).
func (l *Lock) Write(path string) error {
	data, err := l.Encode()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

// PathFor is where the lock of a recipe file lives: next to it, with the
// .yaml (or .yml) extension replaced by .lock
// (examples/debian-cloud.yaml → examples/debian-cloud.lock).
func PathFor(recipeFile string) string {
	for _, ext := range []string{".yaml", ".yml"} {
		if base, ok := strings.CutSuffix(recipeFile, ext); ok {
			return base + ".lock"
		}
	}
	return recipeFile + ".lock"
}

// CheckInputs reports, as an error wrapping ErrStale, every input that
// differs between the lock and want (the recipe's current inputs).
func (l *Lock) CheckInputs(want Inputs) error {
	have := l.Inputs
	want.BasePackages, want.Packages = sortedUnique(want.BasePackages), sortedUnique(want.Packages)
	if want.Components == nil {
		want.Components = []string{}
	}
	var diffs []string
	for _, f := range []struct {
		name      string
		lock, rec any
	}{
		{"distro", have.Distro, want.Distro}, {"release", have.Release, want.Release}, {"arch", have.Arch, want.Arch},
		{"components", have.Components, want.Components}, {"kernel", have.Kernel, want.Kernel},
		{"base packages", have.BasePackages, want.BasePackages}, {"packages", have.Packages, want.Packages},
	} {
		if fmt.Sprint(f.lock) != fmt.Sprint(f.rec) {
			diffs = append(diffs, fmt.Sprintf("%s: lock has %v, recipe has %v", f.name, f.lock, f.rec))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w (%s)", ErrStale, strings.Join(diffs, "; "))
	}
	return nil
}

// SourceDateEpoch is the newest Release date of the lock's suites (Unix
// seconds): the time every timestamp of a locked build is clamped to.
func (l *Lock) SourceDateEpoch() (int64, error) {
	var newest int64
	for _, s := range l.Suites {
		t, err := parseTime(s.Date)
		if err != nil {
			return 0, fmt.Errorf("suite %s: %w", s.Name, err)
		}
		newest = max(newest, t.Unix())
	}
	if newest == 0 {
		return 0, errors.New("lock has no suite dates")
	}
	return newest, nil
}

// Suite returns the named suite.
func (l *Lock) Suite(name string) (Suite, bool) {
	for _, s := range l.Suites {
		if s.Name == name {
			return s, true
		}
	}
	return Suite{}, false
}
