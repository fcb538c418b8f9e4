package lock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
	"github.com/bakery-dev/bakery/internal/runner"
)

// ErrUnresolvable is wrapped when apt cannot install the requested set.
var ErrUnresolvable = errors.New("packages cannot be resolved")

// Options configure Resolve.
type Options struct {
	Inputs         Inputs            // what to resolve (Kernel, BasePackages and Packages are installed)
	Mirror         string            // archive root of the release and its -updates suite
	SecurityMirror string            // archive root of the -security suite
	Keyring        string            // verifies the suites; default apt.DebianKeyring
	Tools          map[string]string // tool versions to pin
	WorkDir        string            // parent of the throwaway apt root (default os.TempDir())
	Runner         runner.Runner
	Logger         *slog.Logger
}

// Resolve pins every input of the recipe: it runs apt in a throwaway root
// against the real mirror the way mmdebstrap --variant=apt does (first the
// Essential: yes set and apt, then the included packages on top of them),
// verifies each suite's InRelease with gpgv, and takes each package's
// sha256, size and pool path from the verified Packages indices.
func Resolve(ctx context.Context, o Options) (*Lock, error) {
	if o.Keyring == "" {
		o.Keyring = apt.DebianKeyring
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.WorkDir != "" {
		if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating apt root: %w", err)
		}
	}
	root, err := os.MkdirTemp(o.WorkDir, "bakery-lock-")
	if err != nil {
		return nil, fmt.Errorf("creating apt root: %w", err)
	}
	defer os.RemoveAll(root)
	r := &resolver{o: o, root: aptRoot{Dir: root}, suites: suitesFor(o)}
	return r.run(ctx)
}

type resolver struct {
	o      Options
	root   aptRoot
	suites []Suite
	index  map[string]indexEntry // "name version arch" → where it is
}

type indexEntry struct {
	pkg    Package
	stanza apt.Paragraph // kept only for the essential set (status file)
}

func suitesFor(o Options) []Suite {
	rel := o.Inputs.Release
	mirror, security := strings.TrimRight(o.Mirror, "/"), strings.TrimRight(o.SecurityMirror, "/")
	return []Suite{
		{Name: rel, URI: mirror}, {Name: rel + "-updates", URI: mirror}, {Name: rel + "-security", URI: security},
	}
}

func (r *resolver) components() []string {
	if len(r.o.Inputs.Components) == 0 {
		return []string{"main"}
	}
	return r.o.Inputs.Components
}

func (r *resolver) run(ctx context.Context) (*Lock, error) {
	start := time.Now()
	if err := r.root.setup(r.suites, r.components(), r.o.Inputs.Arch, r.o.Keyring); err != nil {
		return nil, err
	}
	if _, err := r.apt(ctx, "update"); err != nil {
		return nil, fmt.Errorf("updating package lists: %w", err)
	}
	if err := r.verifySuites(ctx); err != nil {
		return nil, err
	}
	essential, err := r.simulate(ctx, "dist-upgrade")
	if err != nil {
		return nil, err
	}
	if err := r.readIndices(essential); err != nil {
		return nil, err
	}
	if err := r.root.writeStatus(r.stanzas(essential)); err != nil {
		return nil, err
	}
	rest, err := r.simulate(ctx, append([]string{"install"}, r.includes()...)...)
	if err != nil {
		return nil, err
	}
	l, err := r.lock(append(essential, rest...))
	if err != nil {
		return nil, err
	}
	r.o.Logger.Debug("resolved lock", "packages", len(l.Packages), "elapsed", time.Since(start).Round(time.Millisecond))
	return l, nil
}

func (r *resolver) includes() []string {
	in := r.o.Inputs
	return sortedUnique(append(append([]string{in.Kernel}, in.BasePackages...), in.Packages...))
}

func (r *resolver) apt(ctx context.Context, args ...string) ([]byte, error) {
	return r.o.Runner.Run(ctx, runner.Cmd{Args: AptGetArgs(args...), Env: []string{"APT_CONFIG=" + r.root.configFile()}})
}

// AptGetArgs is the apt-get command line of the resolver (its configuration
// comes from APT_CONFIG, so the host's apt settings play no part).
func AptGetArgs(args ...string) []string {
	return append([]string{"apt-get", "--quiet", "--yes"}, args...)
}

func (r *resolver) simulate(ctx context.Context, args ...string) ([]installed, error) {
	out, err := r.apt(ctx, append([]string{"--simulate"}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: apt-get %s: %w", ErrUnresolvable, args[0], err)
	}
	return parseSimulation(string(out))
}

func (r *resolver) verifySuites(ctx context.Context) error {
	for i, s := range r.suites {
		file := r.root.listFile(s.URI, "dists/"+s.Name+"/InRelease")
		body, err := apt.VerifyInRelease(ctx, r.o.Runner, r.o.Keyring, file)
		if err != nil {
			return fmt.Errorf("suite %s: %w", s.Name, err)
		}
		rel, err := apt.ParseRelease(body)
		if err != nil {
			return fmt.Errorf("suite %s: %w", s.Name, err)
		}
		sum, err := fileSHA256(file)
		if err != nil {
			return err
		}
		r.suites[i].Codename, r.suites[i].Version = rel.Codename, rel.Version
		r.suites[i].Date, r.suites[i].InReleaseSHA256 = formatTime(rel.Date), sum
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// readIndices parses every suite's Packages index; the first suite that
// carries a build wins (the same version in two suites is the same file).
func (r *resolver) readIndices(keep []installed) error {
	want := map[string]bool{}
	for _, p := range keep {
		want[p.key()] = true
	}
	r.index = map[string]indexEntry{}
	for _, s := range r.suites {
		for _, comp := range r.components() {
			file := r.root.listFile(s.URI, fmt.Sprintf("dists/%s/%s/binary-%s/Packages", s.Name, comp, r.o.Inputs.Arch))
			if err := r.readIndex(file, s.Name, want); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) readIndex(file, suite string, want map[string]bool) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("reading package index of %s: %w", suite, err)
	}
	defer f.Close()
	err = apt.EachPackage(f, func(p apt.Package) error {
		k := p.Name + " " + p.Version + " " + p.Architecture
		if _, seen := r.index[k]; seen {
			return nil
		}
		e := indexEntry{pkg: Package{Name: p.Name, Version: p.Version, Architecture: p.Architecture,
			SHA256: p.SHA256, Size: p.Size, Filename: p.Filename, Suite: suite}}
		if want[k] {
			e.stanza = p.Paragraph
		}
		r.index[k] = e
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	return nil
}

func (r *resolver) stanzas(pkgs []installed) []apt.Paragraph {
	out := make([]apt.Paragraph, 0, len(pkgs))
	for _, p := range pkgs {
		if e, ok := r.index[p.key()]; ok {
			out = append(out, e.stanza)
		}
	}
	return out
}

func (r *resolver) lock(pkgs []installed) (*Lock, error) {
	l := &Lock{Inputs: r.o.Inputs, Suites: r.suites, Tools: r.o.Tools}
	l.Inputs.Components = r.components()
	seen := map[string]bool{}
	for _, p := range pkgs {
		e, ok := r.index[p.key()]
		if !ok {
			return nil, fmt.Errorf("%w: apt chose %s %s (%s), which no verified index lists", ErrUnresolvable, p.name, p.version, p.arch)
		}
		if e.pkg.SHA256 == "" {
			return nil, fmt.Errorf("%w: index entry of %s %s has no SHA256", ErrUnresolvable, p.name, p.version)
		}
		if !seen[p.key()] {
			seen[p.key()] = true
			l.Packages = append(l.Packages, e.pkg)
		}
	}
	l.Normalize()
	return l, nil
}

// installed is one "Inst" line of apt-get --simulate.
type installed struct{ name, version, arch string }

func (p installed) key() string { return p.name + " " + p.version + " " + p.arch }

// parseSimulation reads the packages apt-get --simulate would install:
//
//	Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64]) []
//	Inst tzdata [2025a-0] (2025b-0+deb12u1 Debian:12-updates/oldstable-updates [all])
func parseSimulation(out string) ([]installed, error) {
	var pkgs []installed
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "Inst ")
		if !ok {
			continue
		}
		p, err := parseInst(rest)
		if err != nil {
			return nil, fmt.Errorf("parsing apt-get output %q: %w", line, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func parseInst(rest string) (installed, error) {
	name, rest, _ := strings.Cut(rest, " ")
	if strings.HasPrefix(rest, "[") { // the installed version being replaced
		_, rest, _ = strings.Cut(rest, "] ")
	}
	body, ok := strings.CutPrefix(rest, "(")
	end := strings.Index(body, "])")
	if !ok || end < 0 || name == "" {
		return installed{}, errors.New("unexpected format")
	}
	body = body[:end]
	version, _, _ := strings.Cut(body, " ")
	arch := body[strings.LastIndexByte(body, '[')+1:]
	if version == "" || arch == "" || strings.ContainsAny(arch, " []") {
		return installed{}, errors.New("unexpected format")
	}
	return installed{name: name, version: version, arch: arch}, nil
}
