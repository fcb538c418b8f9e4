package element

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
)

func phaseElements(t *testing.T) []Element {
	dir := t.TempDir()
	makeElements(t, dir, map[string]map[string]string{
		"motd": {"install.d/50-motd": "#!/bin/sh\n", "finalise.d/90-x": "#!/bin/sh\n", "environment.d/10-motd": "export MOTD=hi\n",
			"install.d/README": "not executable: skipped"},
		"web": {"element-deps": "motd\n", "extra-data.d/10-fetch": "#!/bin/sh\n", "install.d/20-web": "#!/bin/sh\n",
			"pre-install.d/01-repo": "#!/bin/sh\n", "post-install.d/80-x": "#!/bin/sh\n", "cleanup.d/99-x": "#!/bin/sh\n",
			"install.d/30-web.bak~": "#!/bin/sh\n"},
	})
	elems, err := Resolve([]string{dir}, []string{"web"})
	if err != nil {
		t.Fatal(err)
	}
	return elems
}

func TestRunPhaseOrder(t *testing.T) {
	elems := phaseElements(t)
	tree := t.TempDir()
	if err := os.Mkdir(filepath.Join(tree, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	rec := &runner.Recorder{}
	wrapped := 0
	o := Options{Tree: tree, WorkDir: t.TempDir(), Runner: rec, Release: "bookworm", Distro: "debian", Arch: "amd64",
		ImageName: "img", ElementsPath: []string{"/e"}, InTarget: func(fn func() error) error { wrapped++; return fn() }}
	if err := Run(context.Background(), o, elems); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range rec.Cmds {
		got = append(got, strings.TrimPrefix(c.Args[len(c.Args)-1], o.WorkDir))
	}
	want := []string{"/hooks/extra-data.d/10-fetch", "/tmp/bakery-elements/pre-install.d/01-repo",
		"/tmp/bakery-elements/install.d/20-web", "/tmp/bakery-elements/install.d/50-motd",
		"/tmp/bakery-elements/post-install.d/80-x", "/tmp/bakery-elements/finalise.d/90-x", "/hooks/cleanup.d/99-x"}
	if !slices.Equal(got, want) || wrapped != 1 {
		t.Errorf("scripts run\n got %q\nwant %q (in-target wrapper ran %d times)", got, want, wrapped)
	}
	if c := rec.Cmds[1]; c.Args[0] != "chroot" || c.Args[1] != tree || !slices.Contains(c.Env, "DIB_PHASE=pre-install") || slices.Contains(c.Env, "TARGET_ROOT="+tree) {
		t.Errorf("in-target command %q env %q", c.Args, c.Env)
	}
	for _, want := range []string{"TARGET_ROOT=" + tree, "TMP_MOUNT_PATH=" + tree, "DIB_RELEASE=bookworm", "DISTRO_NAME=debian",
		"DIB_ARCH=amd64", "IMAGE_NAME=img", "ELEMENTS_PATH=/e", "IMAGE_ELEMENT=motd web"} {
		if !slices.Contains(rec.Cmds[0].Env, want) {
			t.Errorf("host env lacks %s: %q", want, rec.Cmds[0].Env)
		}
	}
	if _, err := os.Stat(filepath.Join(tree, TargetHooks)); !os.IsNotExist(err) {
		t.Errorf("hooks left in the image: %v", err)
	}
}

func TestScriptArgs(t *testing.T) {
	got := strings.Join(ScriptArgs("/r", Phase{"install.d", true}, "/tmp/bakery-elements", "50-motd"), " | ")
	want := "chroot | /r | /bin/bash | -c | " + wrapper + " | bakery-element | /tmp/bakery-elements/environment.d | /tmp/bakery-elements/install.d/50-motd"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestRunHostPhasesForReal runs extra-data.d and cleanup.d scripts with
// bash: environment.d is sourced, the DIB variables are set, and a failing
// script names its element, phase and script and shows its output.
func TestRunHostPhasesForReal(t *testing.T) {
	dir, tree := t.TempDir(), t.TempDir()
	makeElements(t, dir, map[string]map[string]string{
		"probe": {"environment.d/10-x": "export GREETING=hello\n",
			"extra-data.d/10-probe": "#!/bin/bash\necho \"$GREETING $DIB_RELEASE $DISTRO_NAME $DIB_ARCH\" > \"$TARGET_ROOT/probe\"\n"},
		"failing": {"cleanup.d/50-boom": "#!/bin/bash\necho 'about to fail'\necho 'disk on fire' >&2\nexit 3\n"},
	})
	elems, err := Resolve([]string{dir}, []string{"probe", "failing"})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Tree: tree, WorkDir: t.TempDir(), Runner: runner.Exec{}, Release: "bookworm", Distro: "debian", Arch: "amd64"}
	err = Run(context.Background(), o, elems)
	var se *ScriptError
	if !errors.As(err, &se) || se.Element != "failing" || se.Phase != "cleanup.d" || se.Script != "50-boom" {
		t.Fatalf("Run = %v, want a ScriptError of failing/cleanup.d/50-boom", err)
	}
	for _, want := range []string{"element failing, phase cleanup.d, script 50-boom", "exit 3", "about to fail", "disk on fire"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(tree, "probe")); string(got) != "hello bookworm debian amd64\n" {
		t.Errorf("probe wrote %q", got)
	}
	if _, err := os.Stat(filepath.Join(o.WorkDir, "hooks")); !os.IsNotExist(err) {
		t.Errorf("staged hooks left behind")
	}
}

func TestDuplicateScriptNames(t *testing.T) {
	dir := t.TempDir()
	makeElements(t, dir, map[string]map[string]string{
		"a": {"install.d/50-x": "#!/bin/sh\n"}, "b": {"install.d/50-x": "#!/bin/sh\n"},
	})
	elems, _ := Resolve([]string{dir}, []string{"a", "b"})
	err := Run(context.Background(), Options{Tree: t.TempDir(), WorkDir: t.TempDir(), Runner: &runner.Recorder{}}, elems)
	if err == nil || !strings.Contains(err.Error(), "install.d/50-x is in both element a and element b") {
		t.Errorf("Run = %v", err)
	}
}
