package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
)

// releaseState makes a state directory whose catalog holds product
// debian-cloud at the given versions (oldest first), each boot-tested with
// the given verdict, built from a recipe with channels devel → stable (7
// days of soak).
func releaseState(t *testing.T, versions []string, passed []bool) (dir string, names []string) {
	t.Helper()
	ctx := context.Background()
	dir = filepath.Join(t.TempDir(), "state")
	db, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, v := range versions {
		img := catalogtest.Sample(i)
		img.Version = v
		img.Name = fmt.Sprintf("debian-bookworm.amd64-%s-%s", v, img.Serial)
		img.Recipe = []byte("name: debian-cloud\nversion: " + v + "\nversion_scheme: semver-security\nchannels: [devel, {name: stable, soak: 7d}]\n")
		if err := db.AddImage(ctx, img); err != nil {
			t.Fatal(err)
		}
		qa := catalogtest.SampleQA(0)
		qa.Passed = passed[i]
		qa.TestedAt = time.Now().Add(-time.Hour)
		if err := db.RecordQA(ctx, img.Name, qa); err != nil {
			t.Fatal(err)
		}
		names = append(names, img.Name)
	}
	return dir, names
}

func TestReleaseCommands(t *testing.T) {
	state, names := releaseState(t, []string{"1.0.0", "1.1.0", "1.1.1", "1.2.0"}, []bool{true, true, true, false})
	env := map[string]string{"BAKERY_ACTOR": "alice"}
	run := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, env, append([]string{"--state-dir", state}, args...)...)
		if code != want {
			t.Fatalf("bakery %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	run(0, "promote", "debian-cloud", "1.0.0", "--to", "devel")
	run(0, "promote", "debian-cloud", "1.0.0", "--to", "stable", "--force", "--reason", "first release")
	run(0, "promote", "debian-cloud", "1.1.0", "--to", "devel")
	if out := run(1, "promote", "debian-cloud", "1.1.0", "--to", "stable"); !strings.Contains(out, "gate soak") || !strings.Contains(out, "wait until") {
		t.Errorf("soak refusal does not name the gate and when it passes: %s", out)
	}
	if out := run(1, "promote", "debian-cloud", "1.2.0", "--to", "devel"); !strings.Contains(out, "gate qa") {
		t.Errorf("failed QA is not refused by the qa gate: %s", out)
	}
	run(2, "promote", "debian-cloud", "1.1.0", "--to", "stable", "--force")
	run(2, "promote", "debian-cloud", "9.9.9", "--to", "stable")
	run(2, "promote", "no-such-product", "1.0.0", "--to", "stable")
	if out := run(0, "promote", "debian-cloud", "1.1.0", "--to", "stable", "--force", "--reason", "urgent"); !strings.Contains(out, "FORCED past soak") || !strings.Contains(out, "stable-1.1") {
		t.Errorf("forced promotion output: %s", out)
	}
	run(0, "security-release", "debian-cloud", "1.1.1", "--advisory", "DSA-5801-1,CVE-2026-1", "--severity", "critical")
	if out := run(0, "show", "--packages=false", names[1]); !strings.Contains(out, "SUPERSEDED by security release "+names[2]) {
		t.Errorf("show does not say 1.1.0 is superseded:\n%s", out)
	}
	if out := run(0, "revoke", "debian-cloud", "1.1.0", "--reason", "broken network"); !strings.Contains(out, "stable") || !strings.Contains(out, names[1]+" -> "+names[0]) {
		t.Errorf("revoke did not move stable back to 1.0.0: %s", out)
	}
	out := run(0, "images")
	if !strings.Contains(out, "REVOKED") || !strings.Contains(out, "stable,stable-1.0") {
		t.Errorf("images does not show revocation and channels:\n%s", out)
	}
	pins := run(0, "pins", "debian-cloud")
	if !strings.Contains(pins, "version: 1.0.0") || !strings.Contains(pins, "image: "+names[0]) {
		t.Errorf("pins: %s", pins)
	}
	env["BAKERY_VERSIONS_OVERRIDE"] = "debian-cloud=1.1.1"
	if pins := run(0, "pins", "debian-cloud"); !strings.Contains(pins, "version: 1.1.1") || !strings.Contains(pins, "override: true") {
		t.Errorf("pins with override: %s", pins)
	}
	delete(env, "BAKERY_VERSIONS_OVERRIDE")
	if out := run(0, "upgrade-path", "debian-cloud", "1.0.0", "1.1.1"); !strings.Contains(out, "1.0.0 -> 1.1.1") {
		t.Errorf("upgrade-path: %s", out)
	}
	if out := run(0, "support", "debian-cloud"); !strings.Contains(out, "1.0  ") || !strings.Contains(out, "supported") {
		t.Errorf("support: %s", out)
	}

	run(2, "hotfix", "debian-cloud", "--line", "1.0") // no --for
	if out := run(2, "hotfix", "debian-cloud", "--line", "1.1", "--for", "BUG-1"); !strings.Contains(out, "stable-1.1 has no head") {
		t.Errorf("hotfix on a line without a head: %s", out)
	}

	var events []catalog.Event
	if err := json.Unmarshal([]byte(run(0, "--json", "log", "debian-cloud")), &events); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
		if e.Actor != "alice" {
			t.Errorf("event %d actor %q, want alice", e.ID, e.Actor)
		}
	}
	want := "promote promote promote promote security-release revoke"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit log actions %v, want %s", actions, want)
	}
}
