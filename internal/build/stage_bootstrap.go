package build

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
	"github.com/bakery-dev/bakery/internal/manifest"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/runner"
)

// BasePackages are installed in every image besides the kernel and the
// recipe's packages: what a cloud image needs to boot, configure itself on
// first boot, grow its root and be reached over SSH.
var BasePackages = []string{
	"systemd-sysv", "dbus", "cloud-init", "openssh-server", "cloud-guest-utils",
	"initramfs-tools", "e2fsprogs", "fdisk", "ifupdown", "isc-dhcp-client",
	"iproute2", "netbase", "ca-certificates", "sudo", "procps",
}

// Bootstrap creates the root tree with mmdebstrap from the Debian mirror and
// its security suite.
type Bootstrap struct {
	Release        string
	Arch           string
	Mirror         string // e.g. http://deb.debian.org/debian
	SecurityMirror string // e.g. http://deb.debian.org/debian-security
	Packages       []string
	Components     []string // default main

	// SourceDateEpoch, when set, is exported as SOURCE_DATE_EPOCH so that
	// mmdebstrap and maintainer scripts clamp their timestamps.
	SourceDateEpoch int64
	// FromArchive installs from the local repository the inputs stage wrote
	// into the workspace (signed by the key in KeyDir) instead of the
	// mirrors; the image's sources still name the mirrors.
	FromArchive bool
	KeyDir      string

	// CacheKey, when set, keys the finished tree in the stage cache (see
	// BootstrapKey); CacheState is what the plan expects (hit, miss, off,
	// unlocked).
	CacheKey   string
	CacheState string
}

func (Bootstrap) Name() string { return "bootstrap" }

func (s Bootstrap) Describe() map[string]any {
	d := map[string]any{"argv": s.Args("TREE")}
	if env := s.env(); len(env) > 0 {
		d["env"] = env
	}
	if s.FromArchive {
		d["image_sources"] = s.Sources()
	}
	if s.CacheState != "" || s.CacheKey != "" {
		c := map[string]any{}
		if s.CacheState != "" {
			c["state"] = s.CacheState
		}
		if s.CacheKey != "" {
			c["key"] = s.CacheKey
		}
		d["cache"] = c
	}
	return d
}

func (s Bootstrap) env() []string {
	if s.SourceDateEpoch <= 0 {
		return nil
	}
	return []string{fmt.Sprintf("SOURCE_DATE_EPOCH=%d", s.SourceDateEpoch)}
}

// Sources returns the apt source lines: the release, its updates and its
// security suite.
func (s Bootstrap) Sources() []string {
	comps := strings.Join(s.components(), " ")
	return []string{
		fmt.Sprintf("deb %s %s %s", s.Mirror, s.Release, comps),
		fmt.Sprintf("deb %s %s-updates %s", s.Mirror, s.Release, comps),
		fmt.Sprintf("deb %s %s-security %s", s.SecurityMirror, s.Release, comps),
	}
}

func (s Bootstrap) components() []string {
	if len(s.Components) == 0 {
		return []string{"main"}
	}
	return s.Components
}

// Args is the mmdebstrap command line that writes the tree to target (for
// a build from the archive, with placeholders for the local repository).
func (s Bootstrap) Args(target string) []string {
	return s.argsWith(target, s.installSources("REPO", "KEYRING"))
}

// installSources are the sources mmdebstrap installs from.
func (s Bootstrap) installSources(repoDir, keyring string) []string {
	if !s.FromArchive {
		return s.Sources()
	}
	repo := apt.Repo{Dir: repoDir, Suite: s.Release, Component: "main", Arch: s.Arch}
	return []string{repo.Source(keyring)}
}

func (s Bootstrap) argsWith(target string, sources []string) []string {
	args := []string{
		"mmdebstrap",
		"--mode=auto",
		"--variant=apt",
		"--format=directory",
		"--arch=" + s.Arch,
		"--aptopt=Acquire::Retries \"3\"",
		"--aptopt=Acquire::Languages \"none\"",
		"--include=" + strings.Join(sortedUnique(s.Packages), ","),
		s.Release,
		target,
	}
	return append(args, sources...)
}

func (s Bootstrap) Run(ctx context.Context, ws *Workspace) error {
	if s.cached(ws) && s.restore(ctx, ws) {
		return s.readPackages(ws)
	}
	if err := s.bootstrap(ctx, ws); err != nil {
		return err
	}
	if s.CacheKey != "" { // a locked build: its tree must be the same, cached or not
		if err := s.settle(ctx, ws); err != nil {
			return err
		}
	}
	return s.readPackages(ws)
}

// bootstrap runs mmdebstrap.
func (s Bootstrap) bootstrap(ctx context.Context, ws *Workspace) error {
	lines := progressWriter(ws.Progress, s.Name())
	defer lines.Close()
	sources := s.Sources()
	if s.FromArchive {
		keyring, err := readableKeyring(ws, apt.SignerKeyring(s.KeyDir))
		if err != nil {
			return err
		}
		sources = s.installSources(localRepo(ws, s.Release, s.Arch).Dir, keyring)
	}
	_, err := ws.Runner.Run(ctx, runner.Cmd{Args: s.argsWith(ws.Tree, sources), Env: s.env(), Stderr: lines})
	if err != nil {
		return fmt.Errorf("bootstrapping %s/%s: %w", s.Release, s.Arch, err)
	}
	if s.FromArchive {
		return s.writeImageSources(ws.Tree)
	}
	return nil
}

func (s Bootstrap) readPackages(ws *Workspace) error {
	pkgs, err := manifest.ReadDpkgStatus(ws.Tree)
	if err != nil {
		return fmt.Errorf("reading installed packages: %w", err)
	}
	ws.Packages = pkgs
	return nil
}

// readableKeyring copies the keyring to a fresh directory under the system
// temporary directory, removed with the workspace: apt verifies signatures
// as the unprivileged _apt user, who may not be able to reach the state
// directory.
func readableKeyring(ws *Workspace, keyring string) (string, error) {
	data, err := os.ReadFile(keyring)
	if err != nil {
		return "", fmt.Errorf("reading repository keyring: %w", err)
	}
	dir, err := os.MkdirTemp("", "bakery-keyring-")
	if err != nil {
		return "", fmt.Errorf("copying repository keyring: %w", err)
	}
	ws.OnUndo(func() error { return os.RemoveAll(dir) })
	path := filepath.Join(dir, filepath.Base(keyring))
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("copying repository keyring: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("copying repository keyring: %w", err)
	}
	return path, nil
}

// writeImageSources replaces the local repository in the tree's
// sources.list by the mirrors, as mmdebstrap writes them.
func (s Bootstrap) writeImageSources(tree string) error {
	path := filepath.Join(tree, "etc/apt/sources.list")
	content := strings.Join(s.Sources(), "\n\n") + "\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("writing the image's apt sources: %w", err)
	}
	return nil
}

// progressWriter turns a tool's log lines ("I: downloading packages...")
// into progress messages of a stage.
func progressWriter(sink progress.Sink, stage string) io.WriteCloser {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line != "" {
				sink.Emit(progress.Event{Time: time.Now(), Kind: progress.Info, Stage: stage, Message: line})
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return pw
}

func sortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range in {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// treeSize sums the sizes of regular files under dir (for progress).
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
