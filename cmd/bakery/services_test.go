package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
)

func TestServicesCommand(t *testing.T) {
	dir := t.TempDir()
	plain := writeFile(t, dir, "plain.yaml", "name: web\nversion: 0.1.0\n")
	state := filepath.Join(dir, "state")
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"services"}, 2, "exactly one recipe"},
		{[]string{"services", plain}, 2, "has no config section"},
	} {
		if code, _, errOut := runCLI(t, nil, append([]string{"--state-dir", state}, tc.args...)...); code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errOut, tc.code, tc.err)
		}
	}
	if _, err := runner.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repos := filepath.Join(dir, "repos")
	if _, err := (runner.Exec{}).Run(context.Background(), runner.Cmd{Args: []string{"sh", "../../examples/puppet-tree/setup.sh", repos}}); err != nil {
		t.Fatalf("setup.sh: %v", err)
	}
	env := map[string]string{"BAKERY_CONFIG_REPO": filepath.Join(repos, "puppet-tree.git")}
	code, out, errOut := runCLI(t, env, "--state-dir", state, "services", "../../examples/releng-buildmaster.yaml")
	if code != 0 || !regexpMatch(`(?m)^apache_backend\s+1\.2\.0\s+1\.2\.0 @ [0-9a-f]{12}\s+site::apache::python_vhost$`, out) {
		t.Fatalf("services: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, env, "--state-dir", state, "--json", "services", "../../examples/releng-buildmaster.yaml")
	var m serviceMatrix
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m.Version != "0.1.0" || len(m.Services) != 1 || m.Services[0].Module != "apache_backend" {
		t.Errorf("services --json: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI(t, map[string]string{"BAKERY_CONFIG_REPO": env["BAKERY_CONFIG_REPO"], "BAKERY_CONFIG_REF": "9.9.9"},
		"--state-dir", state, "services", "../../examples/releng-buildmaster.yaml")
	if code != 1 || !strings.Contains(errOut, `"9.9.9"`) || !strings.Contains(errOut, "puppet-tree.git") {
		t.Errorf("missing ref: exit %d %s", code, errOut)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
