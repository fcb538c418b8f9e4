package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/boottest"
	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/manifest"
	"github.com/bakery-dev/bakery/internal/runner"
)

// TestIntegrationRelengBuildmasterPuppetTree makes the example Puppet tree
// (examples/puppet-tree/setup.sh) in a temporary directory, bakes
// examples/releng-buildmaster.yaml from it (BAKERY_CONFIG_REPO points the
// recipe there) and checks the root tree: the config tree at the tagged
// commit with the pinned module, /etc/bakery/release, the vhost file
// Puppet made, the elements' effects, and the version taken from the tag.
// Then it boots the image once (BIOS) with deploy-time user-data and runs
// the recipe's first-boot test: the first boot's puppet apply must have
// made the vhost the user-data names.
func TestIntegrationRelengBuildmasterPuppetTree(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: real mmdebstrap build with puppet apply")
	}
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	ctx := context.Background()
	r := runner.Exec{}
	repos := t.TempDir()
	if _, err := r.Run(ctx, runner.Cmd{Args: []string{"sh", "../../examples/puppet-tree/setup.sh", repos}}); err != nil {
		t.Fatalf("setup.sh: %v", err)
	}
	treeCommit := revParse(t, filepath.Join(repos, "puppet-tree.git"), "0.1.0")
	modCommit := revParse(t, filepath.Join(repos, "apache_backend.git"), "1.2.0")
	b, state := buildReleng(t, repos)
	if !strings.HasPrefix(b.Image.Name, "debian-bookworm.amd64-0.1.0-") || b.Image.Version != "0.1.0" {
		t.Errorf("image %s version %s, want version 0.1.0 from the tag", b.Image.Name, b.Image.Version)
	}
	tree := extractRootfs(t, ctx, r, b.Paths["rootfs-tar"])
	t.Run("config tree", func(t *testing.T) { checkConfigTree(t, tree, treeCommit, modCommit) })
	t.Run("release file", func(t *testing.T) { checkReleaseFile(t, tree, b, treeCommit) })
	t.Run("puppet apply", func(t *testing.T) { checkVhost(t, tree) })
	t.Run("elements", func(t *testing.T) { checkElements(t, tree, b) })
	t.Run("first boot", func(t *testing.T) { checkFirstBoot(t, tree) })
	t.Run("manifest", func(t *testing.T) { checkManifestConfig(t, b, treeCommit) })
	t.Run("first boot in a VM", func(t *testing.T) { checkFirstBootBooted(t, state, b) })
}

// deployVhost is the vhost examples/deploy/firstboot-vhost.yaml asks for.
const deployVhost = "firstboot.example.org"

// checkFirstBootBooted boots the image under BIOS with deploy-time
// user-data; tests/first-boot.sh (stored with the image) must find the
// first-boot unit done and the vhost the deploy data names. The first
// boot's puppet apply delays start-up (2.5 min under TCG on a busy
// machine), hence the longer check timeout.
func checkFirstBootBooted(t *testing.T, state string, b builtImage) {
	start := time.Now()
	code, res, errOut := runTestJSON(t, context.Background(), state, "--firmware", "bios",
		"--check-timeout", "8m", "--user-data", "../../examples/deploy/firstboot-vhost.yaml", b.Image.Name)
	if len(res) != 1 {
		t.Fatalf("exit %d, %d results\n%s", code, len(res), tail(errOut, 30))
	}
	r := res[0].Report
	logReport(t, r)
	t.Logf("bakery test (bios, with user-data) took %s", time.Since(start).Round(time.Second))
	c, found := findCheck(r, boottest.RecipeTestPrefix+"tests/first-boot.sh")
	if !found {
		t.Fatalf("no first-boot recipe test ran: %+v", r.Checks)
	}
	t.Logf("tests/first-boot.sh output:\n%s", c.Output)
	if sr, ok := findCheck(r, boottest.CheckSystemRunning); ok {
		t.Logf("start-up (with the first-boot apply) finished %.0fs after SSH answered", sr.Duration.Seconds())
	}
	if code != 0 || !r.Passed {
		t.Fatalf("exit %d, passed %v, failed %+v\n%s", code, r.Passed, r.Failed(), tail(errOut, 30))
	}
	for _, want := range []string{"ok 1 - bakery-puppet-first-boot.service ran and succeeded",
		"ok 4 - vhost " + deployVhost + " (from " + configtree.DeployData + ")",
		"ok 5 - /etc/apache2/sites-available/" + deployVhost + ".conf was written at this boot"} {
		if !strings.Contains(c.Output, want) {
			t.Errorf("first-boot test output lacks %q", want)
		}
	}
}

func findCheck(r boottest.Report, name string) (boottest.Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return boottest.Check{}, false
}

func checkManifestConfig(t *testing.T, b builtImage, treeCommit string) {
	data, err := os.ReadFile(b.Paths["manifest"])
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.ConfigRef != "0.1.0" || m.ConfigCommit != treeCommit {
		t.Errorf("manifest config ref %q commit %q, want 0.1.0 %s", m.ConfigRef, m.ConfigCommit, treeCommit)
	}
}

func revParse(t *testing.T, repo, rev string) string {
	t.Helper()
	out, err := runner.Exec{}.Run(context.Background(), runner.Cmd{Args: []string{"git", "--git-dir=" + repo, "rev-parse", rev + "^{commit}"}})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func buildReleng(t *testing.T, repos string) (builtImage, string) {
	t.Helper()
	state, err := os.MkdirTemp("/var/tmp", "bakery-test-releng-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	env := map[string]string{"BAKERY_OUTPUTS": "qcow2,rootfs-tar", "BAKERY_CONFIG_REPO": filepath.Join(repos, "puppet-tree.git")}
	code, out, errOut := runCLI(t, env, "--state-dir", state, "--json", "build", "../../examples/releng-buildmaster.yaml")
	if code != 0 {
		t.Fatalf("build exit %d\n%s\n%s", code, out, tail(errOut, 60))
	}
	var b builtImage
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("build --json output: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", b.Image.Name, b.Image.BuildDuration)
	return b, state
}

const envDir = "etc/puppet/code/environments/production"

func checkConfigTree(t *testing.T, tree, treeCommit, modCommit string) {
	for _, p := range []string{"Puppetfile", "environment.conf", "site/site/manifests/apache/python_vhost.pp", "modules/apache_backend/manifests/vhost.pp"} {
		if _, err := os.Stat(filepath.Join(tree, envDir, p)); err != nil {
			t.Errorf("tree lacks %s", p)
		}
	}
	for _, p := range []string{"UNRELEASED", "modules/apache_backend/UNRELEASED"} {
		if _, err := os.Stat(filepath.Join(tree, envDir, p)); err == nil {
			t.Errorf("tree has %s: not the tagged commit", p)
		}
	}
	var lock configtree.Lock
	data, err := os.ReadFile(filepath.Join(tree, configtree.LockFile))
	if err != nil || json.Unmarshal(data, &lock) != nil {
		t.Fatalf("config lock: %v\n%s", err, data)
	}
	if lock.Commit != treeCommit || len(lock.Modules) != 1 || lock.Modules[0].Commit != modCommit || lock.Modules[0].Version != "1.2.0" {
		t.Errorf("config lock %+v, want tree %s and apache_backend %s", lock, treeCommit, modCommit)
	}
}

func checkReleaseFile(t *testing.T, tree string, b builtImage, treeCommit string) {
	data, err := os.ReadFile(filepath.Join(tree, "etc/bakery/release"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`BAKERY_VERSION="0.1.0"`, `BAKERY_CONFIG_REF="0.1.0"`, `BAKERY_CONFIG_COMMIT="` + treeCommit + `"`,
		`BAKERY_BUILD_ID="` + b.Image.BuildID + `"`} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("release file lacks %s:\n%s", want, data)
		}
	}
}

func checkVhost(t *testing.T, tree string) {
	data, err := os.ReadFile(filepath.Join(tree, "etc/apache2/sites-available/buildmaster.example.org.conf"))
	if err != nil {
		t.Fatalf("puppet apply did not make the vhost: %v", err)
	}
	for _, want := range []string{"ServerName buildmaster.example.org", "DocumentRoot /srv/www/buildmaster.example.org",
		"WSGIScriptAlias / /srv/www/buildmaster.example.org/app.wsgi", "<VirtualHost *:80>"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("vhost lacks %q:\n%s", want, data)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(tree, "proc")); len(entries) > 0 {
		t.Errorf("/proc of the image is not empty: still mounted during tar?")
	}
}

func checkElements(t *testing.T, tree string, b builtImage) {
	motd, _ := os.ReadFile(filepath.Join(tree, "etc/motd"))
	if !strings.Contains(string(motd), "Image "+b.Image.Name+" (debian bookworm amd64)") {
		t.Errorf("motd element (install.d in the image): /etc/motd is\n%s", motd)
	}
	versions, _ := os.ReadFile(filepath.Join(tree, "etc/webtools.versions"))
	if !strings.Contains(string(versions), "curl ") || !strings.Contains(string(versions), "jq-") {
		t.Errorf("webtools element (packages + post-install.d): /etc/webtools.versions is %q", versions)
	}
	build, _ := os.ReadFile(filepath.Join(tree, "etc/webtools.build"))
	if !strings.Contains(string(build), "debian bookworm (motd webtools)") {
		t.Errorf("webtools element (extra-data.d on the host): /etc/webtools.build is %q", build)
	}
	if _, err := os.Stat(filepath.Join(tree, "tmp/bakery-elements")); err == nil {
		t.Error("element hooks left in the image")
	}
}

func checkFirstBoot(t *testing.T, tree string) {
	for _, p := range []string{configtree.FirstBootScript, configtree.FirstBootHiera, configtree.RecipeParams, configtree.FirstBootUnit} {
		if _, err := os.Stat(filepath.Join(tree, p)); err != nil {
			t.Errorf("first_boot: image lacks %s", p)
		}
	}
	params, _ := os.ReadFile(filepath.Join(tree, configtree.RecipeParams))
	if !strings.Contains(string(params), `"site::role::buildmaster::vhost": "buildmaster.example.org"`) {
		t.Errorf("first_boot: %s lacks the recipe's vhost:\n%s", configtree.RecipeParams, params)
	}
	script, _ := os.ReadFile(filepath.Join(tree, configtree.FirstBootScript))
	if strings.Contains(string(script), "vhost") {
		t.Errorf("first_boot: the script passes the vhost, which would beat deploy-time data:\n%s", script)
	}
}
