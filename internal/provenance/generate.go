package provenance

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/lock"
)

// Build is everything a statement is made from.
type Build struct {
	BuildID  string
	Subjects []File // the outputs: qcow2, raw, rootfs tarball, manifest, SBOM

	RecipeDigest   string
	Recipe         json.RawMessage // canonical recipe JSON
	RecipePath     string
	RecipeDir      string
	Lock           *lock.Lock // nil for an unlocked build
	LockFile       string     // NAME.lock.json, when the lock is kept with the image
	Packages       []Package  // unlocked builds: the installed packages (no digests known)
	Config         *configtree.Lock
	Elements       []element.Locked
	ElementsPath   []string
	Mirror         string
	SecurityMirror string

	FormatSalt      string
	SourceDateEpoch int64
	BakeryVersion   string
	Tools           map[string]string // host tool → version
	Started         time.Time
	Finished        time.Time
}

// File is one output: its name and hex sha256.
type File struct {
	Name   string
	SHA256 string
}

// Package is an installed package of an unlocked build.
type Package struct {
	Name    string
	Version string
	Arch    string
}

// New makes the statement of a build.
func New(b Build) (Statement, error) {
	ext, err := external(b)
	if err != nil {
		return Statement{}, err
	}
	s := Statement{
		Type: StatementType, Subject: subjects(b.Subjects), PredicateType: PredicateType,
		Predicate: Provenance{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType, ExternalParameters: ext,
				InternalParameters:   InternalParameters{FormatSalt: b.FormatSalt, SourceDateEpoch: b.SourceDateEpoch},
				ResolvedDependencies: dependencies(b),
			},
			RunDetails: RunDetails{
				Builder:  Builder{ID: BuilderID, Version: builderVersion(b)},
				Metadata: Metadata{InvocationID: b.BuildID, StartedOn: b.Started.UTC(), FinishedOn: b.Finished.UTC()},
			},
		},
	}
	return s, s.Validate()
}

func subjects(files []File) []ResourceDescriptor {
	out := make([]ResourceDescriptor, 0, len(files))
	for _, f := range files {
		out = append(out, ResourceDescriptor{Name: f.Name, Digest: map[string]string{"sha256": hexOf(f.SHA256)}})
	}
	slices.SortFunc(out, func(a, b ResourceDescriptor) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func external(b Build) (ExternalParameters, error) {
	ext := ExternalParameters{
		Recipe:       Recipe{Digest: b.RecipeDigest, Content: b.Recipe, Path: b.RecipePath, Dir: b.RecipeDir},
		ElementsPath: b.ElementsPath, Mirror: b.Mirror, SecurityMirror: b.SecurityMirror,
	}
	if b.Lock != nil {
		d, err := b.Lock.Digest()
		if err != nil {
			return ExternalParameters{}, fmt.Errorf("making provenance: %w", err)
		}
		ext.Lock = &Lock{Digest: d, File: b.LockFile}
	}
	return ext, nil
}

func builderVersion(b Build) map[string]string {
	v := maps.Clone(b.Tools)
	if v == nil {
		v = map[string]string{}
	}
	v["bakery"] = b.BakeryVersion
	return v
}

// dependencies lists every input: the packages (with their sha256 when the
// build was locked), the suites' InRelease files, the config tree and its
// modules, and the elements.
func dependencies(b Build) []ResourceDescriptor {
	var deps []ResourceDescriptor
	if b.Lock != nil {
		deps = append(deps, lockedPackages(b.Lock)...)
		deps = append(deps, suites(b.Lock)...)
	} else {
		deps = append(deps, installedPackages(b.Packages)...)
	}
	if b.Config != nil {
		deps = append(deps, configTree(*b.Config)...)
	}
	for _, e := range b.Elements {
		deps = append(deps, ResourceDescriptor{
			URI: "bakery-element:" + e.Name, Name: "element " + e.Name,
			Digest: map[string]string{"sha256": hexOf(e.Hash)},
		})
	}
	if deps == nil {
		deps = []ResourceDescriptor{}
	}
	return deps
}

func lockedPackages(l *lock.Lock) []ResourceDescriptor {
	uris := map[string]string{}
	for _, s := range l.Suites {
		uris[s.Name] = strings.TrimRight(s.URI, "/")
	}
	out := make([]ResourceDescriptor, 0, len(l.Packages))
	for _, p := range l.Packages {
		d := debDescriptor(p.Name, p.Version, p.Architecture)
		d.Digest = map[string]string{"sha256": p.SHA256}
		if uri := uris[p.Suite]; uri != "" {
			d.DownloadLocation = uri + "/" + p.Filename
		}
		d.Annotations = map[string]string{"suite": p.Suite}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b ResourceDescriptor) int { return strings.Compare(a.URI, b.URI) })
	return out
}

func installedPackages(pkgs []Package) []ResourceDescriptor {
	out := make([]ResourceDescriptor, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, debDescriptor(p.Name, p.Version, p.Arch))
	}
	slices.SortFunc(out, func(a, b ResourceDescriptor) int { return strings.Compare(a.URI, b.URI) })
	return out
}

// debDescriptor names a Debian package by its package URL
// (pkg:deb/debian/NAME@VERSION?arch=ARCH) and its .deb file name.
func debDescriptor(name, version, arch string) ResourceDescriptor {
	return ResourceDescriptor{
		URI:  "pkg:deb/debian/" + purlEscape(name) + "@" + purlEscape(version) + "?arch=" + purlEscape(arch),
		Name: name + "_" + strings.ReplaceAll(version, ":", "%3a") + "_" + arch + ".deb",
	}
}

func suites(l *lock.Lock) []ResourceDescriptor {
	out := make([]ResourceDescriptor, 0, len(l.Suites))
	for _, s := range l.Suites {
		out = append(out, ResourceDescriptor{
			URI:         strings.TrimRight(s.URI, "/") + "/dists/" + s.Name + "/InRelease",
			Name:        "InRelease " + s.Name,
			Digest:      map[string]string{"sha256": s.InReleaseSHA256},
			Annotations: map[string]string{"codename": s.Codename, "date": s.Date},
		})
	}
	return out
}

func configTree(c configtree.Lock) []ResourceDescriptor {
	tree := ResourceDescriptor{
		URI: "git+" + c.Repo, Name: "config tree",
		Digest:      map[string]string{"gitCommit": c.Commit},
		Annotations: nonEmpty(map[string]string{"ref": c.Ref, "tag": c.Tag}),
	}
	out := []ResourceDescriptor{tree}
	for _, m := range c.Modules {
		d := ResourceDescriptor{URI: m.Source, Name: "puppet module " + m.Name,
			Annotations: nonEmpty(map[string]string{"ref": m.Ref, "version": m.Version})}
		if m.Commit != "" {
			d.URI, d.Digest = "git+"+m.Source, map[string]string{"gitCommit": m.Commit}
		} else {
			d.Digest = map[string]string{"sha256": hexOf(m.SHA256)}
		}
		out = append(out, d)
	}
	return out
}

func nonEmpty(m map[string]string) map[string]string {
	maps.DeleteFunc(m, func(_, v string) bool { return v == "" })
	if len(m) == 0 {
		return nil
	}
	return m
}

// hexOf strips the "sha256:" of bakery's digests.
func hexOf(d string) string { return strings.TrimPrefix(d, "sha256:") }

// purlEscape percent-encodes everything but letters, digits and ".-_~", as
// package URLs want (an epoch's ":" becomes %3A, "+" becomes %2B).
func purlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
