package configtree

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
)

// gitRun runs git in dir with a fixed identity.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	argv := append([]string{"git", "-c", "user.name=bakery", "-c", "user.email=bakery@example.invalid", "-c", "init.defaultBranch=main"}, args...)
	out, err := runner.Exec{}.Run(context.Background(), runner.Cmd{Args: argv, Dir: dir})
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := runner.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// commitAll makes a repository of files in dir (if needed), commits and
// optionally tags.
func commitAll(t *testing.T, dir string, files map[string]string, tag string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		writeTree(t, dir, nil)
		gitRun(t, "", "init", "--quiet", dir)
	}
	writeTree(t, dir, files)
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "--quiet", "-m", "change")
	if tag != "" {
		gitRun(t, dir, "tag", tag)
	}
	return gitRun(t, dir, "rev-parse", "HEAD")
}

type fixture struct {
	tree, module          string // repositories
	treeCommit, modCommit string // at the tags
}

func newFixture(t *testing.T) fixture {
	base := t.TempDir()
	f := fixture{tree: filepath.Join(base, "tree"), module: filepath.Join(base, "apache_backend")}
	f.modCommit = commitAll(t, f.module, map[string]string{
		"metadata.json":      `{"name": "acme-apache_backend", "version": "1.2.0", "dependencies": [{"name": "acme/stdlib_lite", "version_requirement": ">= 1.0.0 < 2.0.0"}]}`,
		"manifests/init.pp":  "class apache_backend {}\n",
		"manifests/vhost.pp": "define apache_backend::vhost {}\n",
	}, "1.2.0")
	commitAll(t, f.module, map[string]string{"manifests/init.pp": "class apache_backend { notice('newer') }\n"}, "")
	f.treeCommit = commitAll(t, f.tree, map[string]string{
		"Puppetfile": "forge 'https://forgeapi.puppet.com'\nmod 'acme-apache_backend', :git => '" + f.module + "', :tag => '1.2.0'\n" +
			"mod 'stdlib_lite', :path => 'vendor/stdlib_lite'\n",
		"vendor/stdlib_lite/metadata.json": `{"name": "acme-stdlib_lite", "version": "1.0.0"}`,
		"environment.conf":                 "modulepath = site:modules:$basemodulepath\n",
		"site/site/manifests/role/web.pp":  "class site::role::web { apache_backend::vhost { 'x': } }\n",
		"modules/apache_backend/stale.txt": "replaced by the Puppetfile's module\n",
	}, "0.1.0")
	commitAll(t, f.tree, map[string]string{"README": "after the tag\n"}, "")
	return f
}

func TestResolveAndBake(t *testing.T) {
	needGit(t)
	f := newFixture(t)
	ctx := context.Background()
	o := Options{CacheDir: t.TempDir(), Runner: runner.Exec{}}
	tree, err := Resolve(ctx, o, Source{Repo: f.tree, Ref: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if tree.Commit != f.treeCommit || tree.Version() != "0.1.0" || len(tree.Modules) != 2 {
		t.Fatalf("tree %+v, want commit %s version 0.1.0 with 2 modules", tree, f.treeCommit)
	}
	if m := tree.Modules[0]; m.Name != "apache_backend" || m.Commit != f.modCommit || m.Version != "1.2.0" {
		t.Errorf("module %+v, want apache_backend at %s", m, f.modCommit)
	}
	if m := tree.Modules[1]; !strings.HasPrefix(m.SHA256, "sha256:") || m.Version != "1.0.0" {
		t.Errorf("path module %+v", m)
	}
	root := t.TempDir()
	if err := Bake(ctx, runner.Exec{}, tree, root, "/etc/puppet/code/environments/production"); err != nil {
		t.Fatal(err)
	}
	checkBaked(t, root, f)
}

func checkBaked(t *testing.T, root string, f fixture) {
	env := filepath.Join(root, "etc/puppet/code/environments/production")
	for _, p := range []string{"Puppetfile", "site/site/manifests/role/web.pp", "modules/apache_backend/manifests/vhost.pp", "modules/stdlib_lite/metadata.json"} {
		if _, err := os.Stat(filepath.Join(env, p)); err != nil {
			t.Errorf("baked tree lacks %s", p)
		}
	}
	for _, p := range []string{"README", "modules/apache_backend/stale.txt", ".git"} {
		if _, err := os.Stat(filepath.Join(env, p)); err == nil {
			t.Errorf("baked tree has %s", p)
		}
	}
	if init, _ := os.ReadFile(filepath.Join(env, "modules/apache_backend/manifests/init.pp")); strings.Contains(string(init), "newer") {
		t.Errorf("module is not at its pinned tag")
	}
	var lock Lock
	data, err := os.ReadFile(filepath.Join(root, LockFile))
	if err != nil || json.Unmarshal(data, &lock) != nil {
		t.Fatalf("lock: %v %s", err, data)
	}
	if lock.Commit != f.treeCommit || len(lock.Modules) != 2 || lock.Modules[0].Commit != f.modCommit || lock.Modules[0].Ref != "1.2.0" {
		t.Errorf("lock %+v", lock)
	}
}

func TestResolveRefs(t *testing.T) {
	needGit(t)
	f := newFixture(t)
	ctx := context.Background()
	o := Options{CacheDir: t.TempDir(), Runner: runner.Exec{}}
	head := gitRun(t, f.tree, "rev-parse", "HEAD")
	tests := []struct{ ref, commit, version string }{
		{"main", head, "0.1.0-1-g" + head[:12]},
		{f.treeCommit[:10], f.treeCommit, "0.1.0"},
		{"0.1.0", f.treeCommit, "0.1.0"}, // a second resolve fetches into the existing mirror
	}
	for _, tc := range tests {
		tree, err := Resolve(ctx, o, Source{Repo: f.tree, Ref: tc.ref})
		if err != nil {
			t.Fatalf("Resolve(%s): %v", tc.ref, err)
		}
		if tree.Commit != tc.commit || tree.Version() != tc.version {
			t.Errorf("Resolve(%s) = %s %s, want %s %s", tc.ref, tree.Commit, tree.Version(), tc.commit, tc.version)
		}
	}
	_, err := Resolve(ctx, o, Source{Repo: f.tree, Ref: "9.9.9"})
	if !errors.Is(err, ErrRefNotFound) || !strings.Contains(err.Error(), f.tree) || !strings.Contains(err.Error(), `"9.9.9"`) {
		t.Errorf("missing ref: %v", err)
	}
	_, err = Resolve(ctx, o, Source{Repo: filepath.Join(t.TempDir(), "none.git"), Ref: "x"})
	if err == nil || !strings.Contains(err.Error(), "cloning") {
		t.Errorf("missing repo: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(o.CacheDir, "git", ".clone-*")); len(entries) > 0 {
		t.Errorf("failed clone left %v", entries)
	}
}

func TestResolveDependencyConflict(t *testing.T) {
	needGit(t)
	f := newFixture(t)
	commitAll(t, f.tree, map[string]string{"vendor/stdlib_lite/metadata.json": `{"name": "acme-stdlib_lite", "version": "2.1.0"}`}, "0.2.0")
	_, err := Resolve(context.Background(), Options{CacheDir: t.TempDir(), Runner: runner.Exec{}}, Source{Repo: f.tree, Ref: "0.2.0"})
	if !errors.Is(err, ErrVersionConflict) || !strings.Contains(err.Error(), `">= 1.0.0 < 2.0.0" by apache_backend`) {
		t.Errorf("conflict: %v", err)
	}
}

func TestResolvePuppetfileSyntaxError(t *testing.T) {
	needGit(t)
	f := newFixture(t)
	commitAll(t, f.tree, map[string]string{"Puppetfile": "mod 'a',\n  :git => 'x'\nmod 'b' :path => 'y'\n"}, "0.3.0")
	_, err := Resolve(context.Background(), Options{CacheDir: t.TempDir(), Runner: runner.Exec{}}, Source{Repo: f.tree, Ref: "0.3.0"})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(err.Error(), "Puppetfile:3:") {
		t.Errorf("syntax error: %v", err)
	}
}

func TestResolveTarballModule(t *testing.T) {
	needGit(t)
	base := t.TempDir()
	writeTree(t, base, map[string]string{"src/ntp-1.0.0/metadata.json": `{"name": "acme-ntp", "version": "1.0.0"}`})
	tree := filepath.Join(base, "tree")
	writeTree(t, tree, map[string]string{"Puppetfile": "mod 'acme-ntp', :path => 'vendor/ntp-1.0.0.tar.gz'\n", "vendor/.keep": ""})
	if _, err := (runner.Exec{}).Run(context.Background(), runner.Cmd{Args: []string{"tar", "-czf", filepath.Join(tree, "vendor/ntp-1.0.0.tar.gz"), "-C", filepath.Join(base, "src"), "ntp-1.0.0"}}); err != nil {
		t.Fatal(err)
	}
	commitAll(t, tree, nil, "1.0")
	got, err := Resolve(context.Background(), Options{CacheDir: t.TempDir(), Runner: runner.Exec{}}, Source{Repo: tree, Ref: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if m := got.Modules[0]; m.Name != "ntp" || m.Version != "1.0.0" || !strings.HasPrefix(m.SHA256, "sha256:") || filepath.Base(m.Dir) != "ntp-1.0.0" {
		t.Errorf("tarball module %+v", m)
	}
}
