package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/hygiene"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/runner"
)

type builtImage struct {
	Image catalog.Image     `json:"image"`
	Paths map[string]string `json:"paths"`
}

// TestIntegrationBuildDebianCloud bakes examples/debian-cloud.yaml
// for real (mmdebstrap against the Debian mirror), inspects every output and
// leaves booting to TestIntegrationQA, which boots this same image.
func TestIntegrationBuildDebianCloud(t *testing.T) {
	b, state := sharedImage(t)
	ctx := context.Background()
	r := runner.Exec{}
	t.Run("catalog", func(t *testing.T) { checkCatalog(t, state, b) })
	t.Run("qcow2", func(t *testing.T) { checkQCOW2(t, ctx, r, b.Paths["qcow2"]) })
	t.Run("partitions", func(t *testing.T) { checkPartitions(t, ctx, r, b.Paths["raw"]) })
	tree := extractRootfs(t, ctx, r, b.Paths["rootfs-tar"])
	t.Run("tree", func(t *testing.T) { checkTree(t, tree) })
	t.Run("sbom", func(t *testing.T) { checkSBOM(t, ctx, r, tree, b) })
}

// shared is the one real build of examples/debian-cloud.yaml that the
// integration tests of this package share (a build takes minutes). It is a
// locked build: a copy of the recipe is locked first, so the same build
// also proves the lock → input archive → local repository path.
var shared struct {
	sync.Mutex
	done bool
	img  sharedBuild
	err  string
}

type sharedBuild struct {
	b      builtImage
	state  string // the state directory (catalog, artifacts, input archive)
	recipe string // the locked copy of the recipe
	lock   *lock.Lock
}

// sharedImage builds examples/debian-cloud.yaml once (qcow2, raw and rootfs
// tarball) from a lock, into a state directory removed by TestMain.
func sharedImage(t *testing.T) (builtImage, string) {
	t.Helper()
	s := sharedLocked(t)
	return s.b, s.state
}

func sharedLocked(t *testing.T) sharedBuild {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: real mmdebstrap build")
	}
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	shared.Lock()
	defer shared.Unlock()
	if !shared.done {
		shared.done = true
		shared.img, shared.err = buildShared(t)
	}
	if shared.err != "" {
		t.Fatal(shared.err)
	}
	return shared.img
}

func buildShared(t *testing.T) (sharedBuild, string) {
	var s sharedBuild
	var err error
	if s.state, err = os.MkdirTemp("/var/tmp", "bakery-test-state-"); err != nil {
		return s, err.Error()
	}
	cleanups = append(cleanups, func() { os.RemoveAll(s.state) })
	dir := filepath.Join(s.state, "recipe")
	data, err := os.ReadFile("../../examples/debian-cloud.yaml")
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return s, err.Error()
	}
	s.recipe = writeFile(t, dir, "debian-cloud.yaml", string(data))
	code, out, errOut := runCLI(t, nil, "--state-dir", s.state, "--json", "lock", s.recipe)
	if code != 0 {
		return s, fmt.Sprintf("lock exit %d\n%s\n%s", code, out, tail(errOut, 40))
	}
	if s.lock, err = lock.Load(lock.PathFor(s.recipe)); err != nil {
		return s, err.Error()
	}
	env := map[string]string{"BAKERY_OUTPUTS": "qcow2,raw,rootfs-tar"}
	code, out, errOut = runCLI(t, env, "--state-dir", s.state, "--json", "build", s.recipe)
	if code != 0 {
		return s, fmt.Sprintf("build exit %d\n%s\n%s", code, out, tail(errOut, 60))
	}
	if err := json.Unmarshal([]byte(out), &s.b); err != nil {
		return s, fmt.Sprintf("build --json output: %v\n%s", err, out)
	}
	t.Logf("locked %d packages; built %s in %s", len(s.lock.Packages), s.b.Image.Name, s.b.Image.BuildDuration)
	return s, ""
}

// cleanups run after all tests of the package.
var cleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func checkCatalog(t *testing.T, state string, b builtImage) {
	code, out, errOut := runCLI(t, nil, "--state-dir", state, "--json", "images")
	if code != 0 {
		t.Fatalf("images: %d %s", code, errOut)
	}
	var imgs []catalog.Image
	if err := json.Unmarshal([]byte(out), &imgs); err != nil || len(imgs) != 1 || imgs[0].Name != b.Image.Name {
		t.Fatalf("images = %s (%v), want just %s", out, err, b.Image.Name)
	}
	kinds := map[string]bool{}
	for _, a := range imgs[0].Artifacts {
		kinds[a.Kind] = true
		d, size, err := artifact.DigestFile(b.Paths[a.Kind])
		if err != nil || d != a.Digest || size != a.Size {
			t.Errorf("%s: file %s has %s/%d (%v), catalog says %s/%d", a.Kind, b.Paths[a.Kind], d, size, err, a.Digest, a.Size)
		}
	}
	for _, k := range []string{"qcow2", "raw", "rootfs-tar", "manifest", "sbom"} {
		if !kinds[k] {
			t.Errorf("catalog has no %s artifact", k)
		}
	}
	if !strings.HasPrefix(b.Image.Name, "debian-bookworm.amd64-0.1.0-") {
		t.Errorf("name %q does not follow the default template", b.Image.Name)
	}
	if code, out, _ := runCLI(t, nil, "--state-dir", state, "show", b.Image.Name); code != 0 || !strings.Contains(out, "openssh-server") {
		t.Errorf("show: exit %d, output lacks packages:\n%s", code, out)
	}
}

func checkQCOW2(t *testing.T, ctx context.Context, r runner.Runner, path string) {
	out, err := r.Run(ctx, runner.Cmd{Args: []string{"qemu-img", "check", path}})
	if err != nil {
		t.Fatalf("qemu-img check: %v", err)
	}
	t.Logf("qemu-img check: %s", strings.TrimSpace(string(out)))
	info, err := r.Run(ctx, runner.Cmd{Args: []string{"qemu-img", "info", "--output=json", path}})
	if err != nil || !strings.Contains(string(info), `"format": "qcow2"`) {
		t.Fatalf("qemu-img info: %v %s", err, info)
	}
}

func checkPartitions(t *testing.T, ctx context.Context, r runner.Runner, raw string) {
	out, err := r.Run(ctx, runner.Cmd{Args: []string{"sfdisk", "--json", raw}})
	if err != nil {
		t.Fatalf("sfdisk --json: %v", err)
	}
	var pt struct {
		PartitionTable struct {
			Label      string `json:"label"`
			Partitions []struct {
				Node string `json:"node"`
				Type string `json:"type"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &pt); err != nil {
		t.Fatal(err)
	}
	if pt.PartitionTable.Label != "gpt" {
		t.Errorf("label %q, want gpt", pt.PartitionTable.Label)
	}
	want := map[string]string{
		"21686148-6449-6E6F-744E-656564454649": "BIOS boot",
		"C12A7328-F81F-11D2-BA4B-00A0C93EC93B": "EFI system",
		"0FC63DAF-8483-4772-8E79-3D69D8477DE4": "Linux filesystem",
	}
	for _, p := range pt.PartitionTable.Partitions {
		delete(want, strings.ToUpper(p.Type))
	}
	if len(pt.PartitionTable.Partitions) != 3 || len(want) != 0 {
		t.Errorf("partitions %+v; missing %v", pt.PartitionTable.Partitions, want)
	}
}

func extractRootfs(t *testing.T, ctx context.Context, r runner.Runner, tarball string) string {
	dir := filepath.Join(t.TempDir(), "tree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, runner.Cmd{Args: []string{"tar", "--zstd", "-xpf", tarball, "-C", dir, "--numeric-owner"}}); err != nil {
		t.Fatalf("extracting rootfs: %v", err)
	}
	return dir
}

func checkTree(t *testing.T, tree string) {
	for _, pattern := range []string{"boot/vmlinuz-*", "boot/initrd.img-*", "boot/grub/grub.cfg", "boot/grub/i386-pc/*.mod", "boot/grub/x86_64-efi/*.mod", "etc/bakery/release"} {
		if m, _ := filepath.Glob(filepath.Join(tree, pattern)); len(m) == 0 {
			t.Errorf("root tree has no %s", pattern)
		}
	}
	for _, res := range hygiene.Check(tree) {
		if !res.Passed {
			t.Errorf("hygiene rule %s failed: %v %s", res.Rule, res.Found, res.Detail)
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(tree, "boot/grub/grub.cfg"))
	if !strings.Contains(string(cfg), "console=ttyS0") {
		t.Errorf("grub.cfg has no serial console:\n%s", cfg)
	}
}

func checkSBOM(t *testing.T, ctx context.Context, r runner.Runner, tree string, b builtImage) {
	out, err := r.Run(ctx, runner.Cmd{Args: []string{"dpkg-query", "--admindir=" + filepath.Join(tree, "var/lib/dpkg"),
		"-W", "-f", "${db:Status-Abbrev} ${Package}\n"}})
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var installed []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "ii" {
			installed = append(installed, f[1])
		}
	}
	data, err := os.ReadFile(b.Paths["sbom"])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.SPDXVersion != "SPDX-2.3" {
		t.Fatalf("SBOM: %v version %q", err, doc.SPDXVersion)
	}
	var listed []string
	for _, p := range doc.Packages {
		if p.Name != b.Image.Name {
			listed = append(listed, p.Name)
		}
	}
	sort.Strings(installed)
	sort.Strings(listed)
	if strings.Join(installed, " ") != strings.Join(listed, " ") {
		t.Errorf("SBOM lists %d packages, dpkg-query %d:\nsbom: %v\ndpkg: %v", len(listed), len(installed), listed, installed)
	}
}
