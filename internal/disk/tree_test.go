package disk

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindKernel(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string
		err   error
	}{
		{"one", []string{"vmlinuz-6.1.0-18-cloud-amd64", "initrd.img-6.1.0-18-cloud-amd64"}, "6.1.0-18-cloud-amd64", nil},
		{"numeric order", []string{
			"vmlinuz-6.1.0-9-amd64", "initrd.img-6.1.0-9-amd64",
			"vmlinuz-6.1.0-18-amd64", "initrd.img-6.1.0-18-amd64",
		}, "6.1.0-18-amd64", nil},
		{"newest lacks initrd", []string{
			"vmlinuz-6.1.0-18-amd64", "initrd.img-6.1.0-18-amd64", "vmlinuz-6.1.0-20-amd64",
		}, "6.1.0-18-amd64", nil},
		{"none", []string{"config-6.1.0-18-amd64"}, "", ErrNoKernel},
		{"no initrd", []string{"vmlinuz-6.1.0-18-amd64"}, "", ErrNoKernel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := t.TempDir()
			for _, f := range tt.files {
				touch(t, filepath.Join(tree, "boot", f))
			}
			got, err := FindKernel(tree)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("FindKernel = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"6.1.0-18-amd64", "6.1.0-9-amd64", 1},
		{"6.1.0-9-amd64", "6.1.0-18-amd64", -1},
		{"6.1.0-18-amd64", "6.1.0-18-amd64", 0},
		{"6.10.0-1-amd64", "6.9.0-1-amd64", 1},
		{"6.1.0-18-cloud-amd64", "6.1.0-18-amd64", 1},
		{"6.1.0-018", "6.1.0-18", 0},
		{"6.1", "6.1.0", -1},
	}
	for _, tt := range tests {
		got := apt.CompareVersions(tt.a, tt.b) // the order FindKernel picks by
		if sign(got) != tt.want {
			t.Errorf("apt.CompareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func fakeGrubDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, target := range []GrubTarget{GrubBIOS, GrubEFI} {
		touch(t, filepath.Join(dir, string(target), "normal.mod"))
		touch(t, filepath.Join(dir, string(target), "moddep.lst"))
		if err := os.Mkdir(filepath.Join(dir, string(target), "subdir"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "i386-pc", "boot.img"), fakeBootImg(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPrepareTree(t *testing.T) {
	tree := t.TempDir()
	touch(t, filepath.Join(tree, "etc", "fstab"))
	l := testLayout(t)
	const epoch = 1700000000
	if err := PrepareTree(tree, fakeGrubDir(t), "6.1.0-18-cloud-amd64", l, epoch); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"boot/grub/grub.cfg":              GrubConfig("6.1.0-18-cloud-amd64", l.RootUUID),
		"etc/fstab":                       Fstab(l),
		"boot/grub/i386-pc/normal.mod":    "x",
		"boot/grub/x86_64-efi/moddep.lst": "x",
	}
	for rel, content := range want {
		got, err := os.ReadFile(filepath.Join(tree, rel))
		if err != nil || string(got) != content {
			t.Errorf("%s = %q, %v; want %q", rel, got, err, content)
		}
	}
	for _, rel := range []string{"boot/efi", "boot/grub", "etc/fstab", "boot/grub/i386-pc/normal.mod", "boot/grub/x86_64-efi"} {
		st, err := os.Stat(filepath.Join(tree, rel))
		if err != nil {
			t.Fatal(err)
		}
		if !st.ModTime().Equal(time.Unix(epoch, 0)) {
			t.Errorf("%s mtime = %v, want the epoch", rel, st.ModTime())
		}
	}
	if _, err := os.Stat(filepath.Join(tree, "boot/grub/i386-pc/subdir")); err == nil {
		t.Error("copied a subdirectory of the GRUB platform dir")
	}
}

func TestPrepareTreeMissingGrub(t *testing.T) {
	err := PrepareTree(t.TempDir(), filepath.Join(t.TempDir(), "nogrub"), "6.1", testLayout(t), 0)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestClampScript(t *testing.T) {
	tree := t.TempDir()
	old := time.Unix(1600000000, 0)
	touch(t, filepath.Join(tree, "etc", "new file"))
	touch(t, filepath.Join(tree, "etc", "old"))
	touch(t, filepath.Join(tree, "etc", `bad"name`))
	if err := os.Chtimes(filepath.Join(tree, "etc", "old"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("old", filepath.Join(tree, "etc", "link")); err != nil {
		t.Fatal(err)
	}
	script, skipped, err := ClampScript(tree, 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	const stamp = "20231114221320"
	for _, line := range []string{
		`sif "/" ctime ` + stamp,
		`sif "/etc" atime ` + stamp,
		`sif "/etc/new file" mtime ` + stamp,
		`sif "/etc/old" ctime ` + stamp,
		`sif "/etc/link" ctime ` + stamp,
	} {
		if !strings.Contains(script, line+"\n") {
			t.Errorf("script lacks %q:\n%s", line, script)
		}
	}
	if strings.Contains(script, `"/etc/old" mtime`) {
		t.Error("mtime before the epoch was changed")
	}
	if len(skipped) != 1 || skipped[0] != `/etc/bad"name` {
		t.Errorf("skipped = %q", skipped)
	}
}
