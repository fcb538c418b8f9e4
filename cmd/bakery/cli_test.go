package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs bakery in-process with the given environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
	code = runWith(context.Background(), g, args)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "name: x\nversion: 0.1.0\npackges: [vim]\n")
	good := writeFile(t, dir, "good.yaml", "name: web\nversion: 0.1.0\npackages: [vim]\n")
	state := filepath.Join(dir, "state")
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{"no command", nil, nil, 2, "", "Commands:"},
		{"unknown command", nil, []string{"bake"}, 2, "", `unknown command "bake"`},
		{"help", nil, []string{"--help"}, 0, "", "Commands:"},
		{"bad flag", nil, []string{"build", "--nope", good}, 2, "", "flag provided but not defined"},
		{"no recipe", nil, []string{"build"}, 2, "", "exactly one recipe"},
		{"missing recipe file", nil, []string{"build", filepath.Join(dir, "none.yaml")}, 2, "", "none.yaml"},
		{"misspelled field", nil, []string{"build", bad}, 2, "", "bad.yaml:3:1"},
		{"print recipe", nil, []string{"build", "--print-recipe", good}, 0, "name: web", ""},
		{"env override", map[string]string{"BAKERY_VERSION": "0.2.0", "BAKERY_PACKAGES": "curl"},
			[]string{"build", "--print-recipe", good}, 0, "0.2.0", ""},
		{"bad env override", map[string]string{"BAKERY_RELEASE": "sid!"},
			[]string{"build", "--print-recipe", good}, 2, "", "BAKERY_RELEASE"},
		{"images empty", nil, []string{"--state-dir", state, "images", "--json"}, 0, "[]", ""},
		{"show missing", nil, []string{"--state-dir", state, "show", "nope"}, 1, "", "not found"},
		{"test missing image", nil, []string{"--state-dir", state, "test", "nope"}, 2, "", "neither a file nor an image"},
		{"test bad firmware", nil, []string{"--state-dir", state, "test", "--firmware", "coreboot", good}, 2, "", "coreboot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.inStdout) {
				t.Errorf("stdout %q does not contain %q", out, tt.inStdout)
			}
			if !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.inStderr)
			}
		})
	}
}
