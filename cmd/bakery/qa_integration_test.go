package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/boottest"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/runner"
)

// TestIntegrationQA boot-tests the shared image for real (offline
// hygiene, then SeaBIOS and OVMF boots with SSH checks), checks that the
// verdict is in the catalog, then shows that a broken image, a hung boot
// and an interrupted test are reported and cleaned up as they must be.
func TestIntegrationQA(t *testing.T) {
	b, state := sharedImage(t)
	t.Run("passes", func(t *testing.T) { qaSharedImagePasses(t, state, b) })
	t.Run("broken image", func(t *testing.T) { qaBrokenImageFails(t, state, b) })
	t.Run("hung boot", func(t *testing.T) { qaHungBoot(t, state, b) })
	t.Run("interrupted", func(t *testing.T) { qaInterrupted(t, state, b) })
}

// leftovers lists what a test must not leave behind: QEMU processes that
// use the state directory, and files in STATE/work and in the system's
// temporary directory made by bakery.
func leftovers(t *testing.T, state string) []string {
	t.Helper()
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmd, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(cmd), "qemu-system") && strings.Contains(string(cmd), state) {
			out = append(out, "process "+strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	work, _ := os.ReadDir(filepath.Join(state, "work"))
	for _, e := range work {
		out = append(out, "file "+filepath.Join(state, "work", e.Name()))
	}
	tmp, _ := os.ReadDir(os.TempDir())
	for _, e := range tmp {
		if strings.HasPrefix(e.Name(), "bakery-test-") || strings.HasPrefix(e.Name(), "bakery-probe-") {
			out = append(out, "file "+filepath.Join(os.TempDir(), e.Name()))
		}
	}
	slices.Sort(out)
	return out
}

func assertNoLeftovers(t *testing.T, state string, before []string) {
	t.Helper()
	if after := leftovers(t, state); !slices.Equal(before, after) {
		t.Errorf("left behind:\nbefore %q\nafter  %q", before, after)
	}
}

// runTestJSON runs bakery test --json and decodes its results.
func runTestJSON(t *testing.T, ctx context.Context, state string, args ...string) (int, []jsonOutcome, string) {
	t.Helper()
	var out, errb strings.Builder
	g := &globals{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	code := runWith(ctx, g, append([]string{"--state-dir", state, "--json", "test"}, args...))
	var res []jsonOutcome
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil && code != 2 {
		t.Fatalf("bakery test --json output: %v\n%s\n%s", err, out.String(), tail(errb.String(), 30))
	}
	return code, res, errb.String()
}

func logReport(t *testing.T, r boottest.Report) {
	t.Helper()
	for _, b := range r.Boots {
		t.Logf("%s under %s: SSH after %.1fs (passed %v)", b.Firmware, b.Accel, b.BootToSSH.Seconds(), b.Passed)
	}
	for _, c := range r.Checks {
		if c.Failed() || strings.HasPrefix(c.Name, boottest.RecipeTestPrefix) {
			t.Logf("%v %s %s: %s", c.Passed, c.Firmware, c.Name, c.Evidence)
		}
	}
}

func qaSharedImagePasses(t *testing.T, state string, b builtImage) {
	before := leftovers(t, state)
	start := time.Now()
	code, res, errOut := runTestJSON(t, context.Background(), state, b.Image.Name)
	if len(res) != 1 {
		t.Fatalf("exit %d, %d results\n%s", code, len(res), tail(errOut, 30))
	}
	r := res[0].Report
	logReport(t, r)
	t.Logf("bakery test (bios+uefi) took %s", time.Since(start).Round(time.Second))
	if code != 0 || !r.Passed || len(r.Failed()) != 0 {
		t.Fatalf("exit %d, passed %v, failed %+v\n%s", code, r.Passed, r.Failed(), tail(errOut, 30))
	}
	names := map[string]int{}
	for _, c := range r.Checks {
		names[c.Name]++
	}
	for _, n := range []string{boottest.CheckBoot, boottest.CheckSystemRunning, boottest.CheckCloudInit, boottest.CheckHostnameUser,
		boottest.CheckSSHHostKeys, boottest.CheckMachineID, boottest.CheckRootGrown, boottest.CheckNetwork, boottest.CheckRelease} {
		if names[n] != 2 {
			t.Errorf("check %s ran %d times, want once per firmware", n, names[n])
		}
	}
	for _, c := range r.Checks {
		if c.Skipped {
			t.Errorf("check %s %s skipped: %s", c.Firmware, c.Name, c.Evidence)
		}
	}
	if names[boottest.HygienePrefix+"private-keys"] != 1 || names[boottest.CheckHostKeysUnique] != 1 {
		t.Errorf("offline or cross-boot checks missing: %v", names)
	}
	checkVerdictRecorded(t, state, b.Image.Name, r)
	assertNoLeftovers(t, state, before)
}

// checkVerdictRecorded reads the verdict back through show and images.
func checkVerdictRecorded(t *testing.T, state, name string, r boottest.Report) {
	t.Helper()
	code, out, errOut := runCLI(t, nil, "--state-dir", state, "--json", "show", name)
	if code != 0 {
		t.Fatalf("show: %d %s", code, errOut)
	}
	var shown struct {
		QA *catalog.QAResult `json:"qa"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.QA == nil {
		t.Fatalf("show --json has no qa: %v\n%s", err, out)
	}
	qa := shown.QA
	if !qa.Passed || qa.Accel != string(r.Accel) || len(qa.Checks) != len(r.Checks) || qa.BootToSSH != r.BootToSSH() ||
		strings.Join(qa.Firmwares, ",") != "bios,uefi" {
		t.Errorf("recorded verdict %+v", qa)
	}
	kinds := map[string]int{}
	for _, a := range qa.Artifacts {
		kinds[a.Kind]++
		p := filepath.Join(state, "images", name, "qa", a.Filename)
		if fi, err := os.Stat(p); err != nil || fi.Size() != a.Size {
			t.Errorf("artifact %s not linked at %s: %v", a.Filename, p, err)
		}
	}
	if kinds[catalog.KindQAReport] != 1 || kinds[catalog.KindQAJUnit] != 1 || kinds[catalog.KindConsole] != 2 {
		t.Errorf("QA artifacts %v", kinds)
	}
	_, text, _ := runCLI(t, nil, "--state-dir", state, "images")
	if !strings.Contains(text, "pass ") {
		t.Errorf("images shows no verdict:\n%s", text)
	}
	_, text, _ = runCLI(t, nil, "--state-dir", state, "show", "--packages=false", name)
	if !strings.Contains(text, "qa:        PASS") || !strings.Contains(text, "pass  uefi  root-grown") {
		t.Errorf("show lacks the verdict:\n%s", text)
	}
}

// qaBrokenImageFails plants an SSH host key in a copy of the shared image
// (debugfs -w on its root partition: no rebuild) and tests it with a
// recipe whose test fails: exactly those two checks must fail.
func qaBrokenImageFails(t *testing.T, state string, b builtImage) {
	dir := t.TempDir()
	broken := makeBrokenImage(t, b.Paths["qcow2"], dir)
	recipeDir := filepath.Join(dir, "recipe")
	if err := os.MkdirAll(filepath.Join(recipeDir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, recipeDir, "tests/fail.sh", "#!/bin/sh\necho 1..2\necho 'ok 1 - curl is installed'\necho 'not ok 2 - nginx answers'\nexit 1\n")
	writeFile(t, recipeDir, "tests/pass.sh", "#!/bin/sh\nset -e\necho 1..1\ncurl --version >/dev/null\necho \"ok 1 - curl on $BAKERY_FIRMWARE\"\n")
	recipe := writeFile(t, recipeDir, "broken.yaml", "name: broken\nversion: 0.0.1\ntests: [tests/pass.sh, tests/fail.sh]\n")
	before := leftovers(t, state)
	code, res, errOut := runTestJSON(t, context.Background(), state, "--firmware", "bios", "--recipe", recipe, broken)
	if code != 1 || len(res) != 1 {
		t.Fatalf("exit %d (want 1), %d results\n%s", code, len(res), tail(errOut, 30))
	}
	r := res[0].Report
	logReport(t, r)
	var failed []string
	for _, c := range r.Failed() {
		failed = append(failed, c.Name)
	}
	want := []string{boottest.HygienePrefix + "ssh-host-keys", boottest.RecipeTestPrefix + "tests/fail.sh"}
	if !slices.Equal(failed, want) {
		t.Errorf("failed checks %v, want %v", failed, want)
	}
	for _, c := range r.Checks {
		if c.Name == boottest.RecipeTestPrefix+"tests/fail.sh" && (!strings.Contains(c.Evidence, "not ok 2 - nginx answers") || !strings.Contains(c.Output, "ok 1")) {
			t.Errorf("recipe test evidence %q, output %q", c.Evidence, c.Output)
		}
	}
	assertNoLeftovers(t, state, before)
}

// makeBrokenImage converts the image to a raw disk, writes an SSH host key
// into its root file system with debugfs and converts it back to qcow2.
func makeBrokenImage(t *testing.T, image, dir string) string {
	t.Helper()
	ctx, r := context.Background(), runner.Exec{}
	raw := filepath.Join(dir, "broken.raw")
	run := func(args ...string) {
		t.Helper()
		if _, err := r.Run(ctx, runner.Cmd{Args: args}); err != nil {
			t.Fatal(err)
		}
	}
	run(boottest.ConvertRawArgs(image, raw)...)
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := boottest.ReadGPT(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	root, err := boottest.RootPartition(parts)
	if err != nil {
		t.Fatal(err)
	}
	key := writeFile(t, dir, "ssh_host_ed25519_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n")
	fsys := raw + "?offset=" + strconv.FormatInt(root.Offset(), 10)
	run("debugfs", "-w", "-R", "write "+key+" /etc/ssh/ssh_host_ed25519_key", fsys)
	out, err := r.Run(ctx, runner.Cmd{Args: []string{"debugfs", "-R", "stat /etc/ssh/ssh_host_ed25519_key", fsys}})
	if err != nil || !strings.Contains(string(out), "Type: regular") {
		t.Fatalf("planting the key: %v %s", err, out)
	}
	qcow2 := filepath.Join(dir, "broken.qcow2")
	run("qemu-img", "convert", "-O", "qcow2", raw, qcow2)
	os.Remove(raw)
	return qcow2
}

// overlayOf makes a qcow2 file over the shared image: a file that is not
// the catalog image, so nothing is recorded for it.
func overlayOf(t *testing.T, qcow2 string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "copy.qcow2")
	abs, _ := filepath.Abs(qcow2)
	if _, err := (runner.Exec{}).Run(context.Background(), runner.Cmd{Args: boottest.OverlayArgs(abs, p)}); err != nil {
		t.Fatal(err)
	}
	return p
}

// qaHungBoot gives the boot less time than it needs: the machine is
// stopped at the timeout, the boot check fails and the console is kept.
func qaHungBoot(t *testing.T, state string, b builtImage) {
	img := overlayOf(t, b.Paths["qcow2"])
	before := leftovers(t, state)
	start := time.Now()
	code, res, errOut := runTestJSON(t, context.Background(), state, "--firmware", "bios", "--timeout", "12s", img)
	if code != 1 || len(res) != 1 {
		t.Fatalf("exit %d (want 1)\n%s", code, tail(errOut, 20))
	}
	t.Logf("hung boot reported after %s", time.Since(start).Round(time.Second))
	r := res[0].Report
	var boot boottest.Check
	for _, c := range r.Checks {
		if c.Name == boottest.CheckBoot {
			boot = c
		}
	}
	if boot.Passed || !strings.Contains(boot.Evidence, "no SSH login within 12s") {
		t.Errorf("boot check %+v", boot)
	}
	console := res[0].Files[catalog.KindConsole+"-bios"]
	if data, err := os.ReadFile(console); err != nil || !strings.Contains(string(data), "SeaBIOS") {
		t.Errorf("console not kept at %q: %v", console, err)
	}
	os.Remove(console)
	assertNoLeftovers(t, state, before)
}

// qaInterrupted cancels a test in the middle of its boot, as Ctrl-C does.
func qaInterrupted(t *testing.T, state string, b builtImage) {
	img := overlayOf(t, b.Paths["qcow2"])
	before := leftovers(t, state)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) && !strings.Contains(strings.Join(leftovers(t, state), " "), "process") {
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(3 * time.Second) // the machine is booting
		cancel()
	}()
	var out, errb strings.Builder
	g := &globals{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	code := runWith(ctx, g, []string{"--state-dir", state, "test", "--firmware", "bios", img})
	if code != 1 || !strings.Contains(errb.String(), "context canceled") {
		t.Errorf("interrupted test: exit %d\n%s", code, tail(errb.String(), 10))
	}
	assertNoLeftovers(t, state, before)
}
