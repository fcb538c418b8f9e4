package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
)

// TestIntegrationReleaseLifecycle walks a product through its release
// lifecycle with real images: the suite's shared build (0.1.0) and a second
// version built from the same lock (0.2.0), both boot-tested; 0.1.0 goes
// devel → rolling → stable (the soak gate refuses, --force passes), then
// 0.2.0; revoking 0.2.0 moves stable back to 0.1.0; a hotfix on line 0.1
// builds 0.1.1 from 0.1.0's lock, which the QA gate keeps out of stable-0.1
// until it is tested.
func TestIntegrationReleaseLifecycle(t *testing.T) {
	s := sharedLocked(t)
	a := s.b.Image
	env := map[string]string{"BAKERY_ACTOR": "release-test"}
	bakery := func(want int, args ...string) (stdout, stderr string) {
		t.Helper()
		code, out, errOut := runCLI(t, env, append([]string{"--state-dir", s.state}, args...)...)
		if code != want {
			t.Fatalf("bakery %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, tail(out, 30), tail(errOut, 30))
		}
		return out, errOut
	}
	run := func(want int, args ...string) string { // both outputs, for messages
		t.Helper()
		out, errOut := bakery(want, args...)
		return out + errOut
	}
	runJSON := func(v any, args ...string) { // stdout only
		t.Helper()
		out, _ := bakery(0, append([]string{"--json", "--quiet"}, args...)...)
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("bakery %s --json: %v\n%s", strings.Join(args, " "), err, tail(out, 30))
		}
	}
	ensureTested(t, s.state, a.Name, run)

	env["BAKERY_VERSION"] = "0.2.0"
	var b builtImage
	runJSON(&b, "build", s.recipe)
	delete(env, "BAKERY_VERSION")
	t.Logf("built %s in %s", b.Image.Name, b.Image.BuildDuration)
	run(0, "test", "--firmware", "bios", b.Image.Name)

	for _, ch := range []string{"devel", "rolling"} {
		run(0, "promote", "debian-cloud", a.Name, "--to", ch)
	}
	if out := run(1, "promote", "debian-cloud", a.Name, "--to", "stable"); !strings.Contains(out, "gate soak") {
		t.Errorf("stable without soak was not refused by the soak gate: %s", out)
	}
	run(0, "promote", "debian-cloud", a.Name, "--to", "stable", "--force", "--reason", "first release")
	for _, ch := range []string{"devel", "rolling"} {
		run(0, "promote", "debian-cloud", b.Image.Name, "--to", ch)
	}
	run(0, "promote", "debian-cloud", b.Image.Name, "--to", "stable", "--force", "--reason", "feature release")
	if heads := channelHeads(t, s.state); heads["stable"] != b.Image.Name || heads["stable-0.1"] != a.Name || heads["stable-0.2"] != b.Image.Name {
		t.Fatalf("heads after promotions: %v", heads)
	}

	run(0, "revoke", "debian-cloud", b.Image.Name, "--reason", "breaks networking")
	heads := channelHeads(t, s.state)
	if heads["stable"] != a.Name || heads["devel"] != a.Name || heads["rolling"] != a.Name || heads["stable-0.2"] != "" {
		t.Errorf("after revoking 0.2.0 the channels did not move back to 0.1.0: %v", heads)
	}
	if out := run(1, "promote", "debian-cloud", b.Image.Name, "--to", "stable", "--force", "--reason", "x"); !strings.Contains(out, "gate revoked") {
		t.Errorf("a revoked version was promoted: %s", out)
	}

	var hot builtImage
	runJSON(&hot, "hotfix", "debian-cloud", "--line", "0.1", "--for", "BUG-42")
	if hot.Image.Version != "0.1.1" {
		t.Errorf("hotfix on line 0.1 made version %q, want 0.1.1", hot.Image.Version)
	}
	if out := run(1, "promote", "debian-cloud", hot.Image.Name, "--to", "stable-0.1"); !strings.Contains(out, "gate qa") {
		t.Errorf("an untested hotfix passed the QA gate: %s", out)
	}
	if out := run(0, "show", "--packages=false", hot.Image.Name); !strings.Contains(out, "Hotfix-For: BUG-42") {
		t.Errorf("show does not name what the hotfix is for:\n%s", out)
	}

	var events []catalog.Event
	runJSON(&events, "log", "debian-cloud")
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	want := "promote promote promote promote promote promote revoke hotfix"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit log %v, want %s", actions, want)
	}
	if forced := events[2].Forced; len(forced) != 1 || forced[0] != "soak" {
		t.Errorf("the forced promotion records %v, want [soak]", forced)
	}
}

// ensureTested boot-tests the image (BIOS only) unless its latest verdict
// is a pass already.
func ensureTested(t *testing.T, state, image string, run func(int, ...string) string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(state, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	qa, err := db.LatestQA(context.Background(), image)
	db.Close()
	if err == nil && qa.Passed {
		return
	}
	run(0, "test", "--firmware", "bios", image)
}

func channelHeads(t *testing.T, state string) map[string]string {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(state, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	heads, err := db.ChannelHeads(context.Background(), "debian-cloud")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range heads {
		out[h.Channel] = h.Image
	}
	return out
}
