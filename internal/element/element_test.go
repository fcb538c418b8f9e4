package element

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/treehash"
)

// makeElements writes elements under dir: name → files (path → content;
// paths ending in a phase directory's script are made executable).
func makeElements(t *testing.T, dir string, elems map[string]map[string]string) {
	t.Helper()
	for name, files := range elems {
		for rel, content := range files {
			p := filepath.Join(dir, name, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			mode := os.FileMode(0o644)
			if strings.Contains(rel, ".d/") && !strings.HasPrefix(rel, "environment.d/") && filepath.Base(rel)[0] <= '9' {
				mode = 0o755
			}
			if err := os.WriteFile(p, []byte(content), mode); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func names(elems []Element) string {
	var n []string
	for _, e := range elems {
		n = append(n, e.Name)
	}
	return strings.Join(n, " ")
}

func TestResolveOrder(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	makeElements(t, a, map[string]map[string]string{
		"web":    {"element-deps": "# needs\nbase\npython\n"},
		"python": {"element-deps": "base\n", "package-installs.yaml": "python3:\n"},
		"base":   {"README.rst": "base"},
		"loop1":  {"element-deps": "loop2\n"},
		"loop2":  {"element-deps": "loop3\n"},
		"loop3":  {"element-deps": "loop1\n"},
		"broken": {"element-deps": "nowhere\n"},
	})
	makeElements(t, b, map[string]map[string]string{"base": {"README.rst": "shadowed"}, "motd": {"README.rst": "motd"}})
	path := []string{a, b}
	tests := []struct {
		names []string
		want  string
		is    error
		msg   string
	}{
		{[]string{"web"}, "base python web", nil, ""},
		{[]string{"motd", "python", "web"}, "motd base python web", nil, ""},
		{[]string{"loop1"}, "", ErrCycle, "loop1 -> loop2 -> loop3 -> loop1"},
		{[]string{"broken"}, "", ErrNotFound, `"nowhere"`},
		{[]string{"nothing"}, "", ErrNotFound, a + ":" + b},
	}
	for _, tc := range tests {
		got, err := Resolve(path, tc.names)
		if tc.is != nil {
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Resolve(%v) = %v, want %v containing %q", tc.names, err, tc.is, tc.msg)
			}
			continue
		}
		if err != nil || names(got) != tc.want {
			t.Errorf("Resolve(%v) = %q, %v; want %q", tc.names, names(got), err, tc.want)
		}
	}
	got, _ := Resolve(path, []string{"base"})
	if got[0].Dir != filepath.Join(a, "base") {
		t.Errorf("first element on the path should win, got %s", got[0].Dir)
	}
	py, _ := Resolve(path, []string{"python"})
	if !reflect.DeepEqual(PackageNames(py), []string{"python3"}) {
		t.Errorf("packages %v", PackageNames(py))
	}
}

func TestParsePackageInstalls(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Package
		err      string
	}{
		{"mapping", "vim:\ncurl:\n  phase: install.d\n", []Package{{"vim", ""}, {"curl", "install.d"}}, ""},
		{"list", "- jq\n- git\n", []Package{{"jq", ""}, {"git", ""}}, ""},
		{"empty", "", nil, ""},
		{"bad name", "vim:\nBad_Name:\n", nil, `p.yaml:2: "Bad_Name" is not a Debian package name`},
		{"unsupported option", "vim:\n  uninstall: true\n", nil, `p.yaml:2: package vim: option "uninstall" is not supported`},
		{"scalar value", "vim: install.d\n", nil, "p.yaml:1: package vim: expected nothing or {phase: ...}"},
		{"top scalar", "vim\n", nil, "p.yaml:1: expected a mapping"},
		{"bad yaml", "vim: [\n", nil, "p.yaml: yaml:"},
	}
	for _, tc := range tests {
		got, err := ParsePackageInstalls("p.yaml", []byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestContentHash(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	files := map[string]map[string]string{"e": {"install.d/10-x": "#!/bin/sh\n", "README": "r"}}
	makeElements(t, a, files)
	makeElements(t, b, files)
	ha, _ := treehash.Dir(filepath.Join(a, "e"))
	hb, _ := treehash.Dir(filepath.Join(b, "e"))
	if ha != hb || !strings.HasPrefix(ha, "sha256:") {
		t.Fatalf("copies hash differently: %s %s", ha, hb)
	}
	if err := os.Chmod(filepath.Join(b, "e", "install.d/10-x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if hc, _ := treehash.Dir(filepath.Join(b, "e")); hc == ha {
		t.Error("mode change did not change the hash")
	}
	if err := os.WriteFile(filepath.Join(a, "e", "README"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	if hd, _ := treehash.Dir(filepath.Join(a, "e")); hd == ha {
		t.Error("content change did not change the hash")
	}
}

func TestDefaultPath(t *testing.T) {
	repo := t.TempDir()
	for _, d := range []string{".git", "elements", "examples/elements", "examples/sub", "extra"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := DefaultPath([]string{filepath.Join(repo, "extra"), filepath.Join(repo, "missing")}, filepath.Join(repo, "examples"))
	want := []string{filepath.Join(repo, "extra"), filepath.Join(repo, "examples/elements"), filepath.Join(repo, "elements")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultPath = %q, want %q", got, want)
	}
	if got := SplitPath(" /a::/b "); !reflect.DeepEqual(got, []string{"/a", "/b"}) {
		t.Errorf("SplitPath = %q", got)
	}
}
