package stagecache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

func key(n int) string { return fmt.Sprintf("%064x", n) }

// clock is a fake time that advances one minute per call.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Minute); return c.t }

func newCache(t *testing.T, max int64) (*Cache, *clock) {
	t.Helper()
	if err := runner.Require(Tools()...); err != nil {
		t.Skip(err)
	}
	clk := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	c, err := Open(Options{Dir: filepath.Join(t.TempDir(), "stages"), MaxBytes: max, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

// sampleTree makes a small tree with what a root tree holds: nested
// directories, odd modes, a symlink, a hardlink, a FIFO, sub-second mtimes,
// and (as root) other owners, an xattr and a device node.
func sampleTree(t *testing.T, dir string, content string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc/apt"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "usr/bin"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/apt/sources.list"), []byte(content), 0o644))
	must(os.WriteFile(filepath.Join(dir, "usr/bin/tool"), []byte("#!/bin/sh\n"), 0o755))
	must(os.Chmod(filepath.Join(dir, "usr/bin/tool"), 0o755|os.ModeSetuid))
	must(os.Link(filepath.Join(dir, "usr/bin/tool"), filepath.Join(dir, "usr/bin/tool2")))
	must(os.Symlink("../etc/apt/sources.list", filepath.Join(dir, "usr/sources")))
	must(syscall.Mkfifo(filepath.Join(dir, "usr/fifo"), 0o600))
	if os.Getuid() == 0 {
		must(os.Chown(filepath.Join(dir, "etc/apt/sources.list"), 123, 456))
		must(os.Lchown(filepath.Join(dir, "usr/sources"), 7, 8))
		must(syscall.Mknod(filepath.Join(dir, "usr/null"), syscall.S_IFCHR|0o666, 1<<8|3))
		_ = syscall.Setxattr(filepath.Join(dir, "usr/bin/tool"), "user.bakery", []byte("x"), 0) // tmpfs may refuse user.*
	}
	stamp := time.Date(2026, 7, 11, 10, 16, 37, 123456789, time.UTC)
	must(filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.Mode()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, stamp, stamp)
	}))
	must(os.Chmod(filepath.Join(dir, "etc"), 0o750))
}

// describe renders every path's type, mode, owners, size, mtime (ns),
// device, link count, xattrs, link target and content.
func describe(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st := info.Sys().(*syscall.Stat_t)
		d := fmt.Sprintf("%o %d:%d %d %d %d nlink=%d", st.Mode, st.Uid, st.Gid, st.Size, info.ModTime().UnixNano(), st.Rdev, st.Nlink)
		if info.Mode()&os.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			d += " -> " + target
		} else if info.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			buf := make([]byte, 64)
			n, _ := syscall.Getxattr(p, "user.bakery", buf)
			d += fmt.Sprintf(" %q xattr=%q", data, buf[:max(n, 0)])
		}
		out[rel] = d
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStoreRestoreKeepsTheTreeExactly(t *testing.T) {
	c, _ := newCache(t, 0)
	ctx := context.Background()
	tree := filepath.Join(t.TempDir(), "tree")
	sampleTree(t, tree, "deb http://deb.debian.org/debian bookworm main\n")
	stored, err := c.Store(ctx, key(1), "bootstrap", tree)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Size <= 0 || stored.Key != key(1) || stored.Stage != "bootstrap" {
		t.Errorf("stored entry %+v", stored)
	}
	dest := filepath.Join(t.TempDir(), "restored")
	got, err := c.Restore(ctx, key(1), dest)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastUsed.After(stored.LastUsed) || got.Digest != stored.Digest {
		t.Errorf("restored entry %+v, stored %+v: last use not recorded", got, stored)
	}
	want, have := describe(t, tree), describe(t, dest)
	for p, d := range want {
		if have[p] != d {
			t.Errorf("%s: restored %q, want %q", p, have[p], d)
		}
	}
	if len(have) != len(want) {
		t.Errorf("restored %d paths, want %d", len(have), len(want))
	}
	if e, err := c.Lookup(key(1)); err != nil || !e.LastUsed.Equal(got.LastUsed) {
		t.Errorf("lookup after restore: %+v %v", e, err)
	}
}

func TestRestoreMissing(t *testing.T) {
	c, _ := newCache(t, 0)
	if _, err := c.Restore(context.Background(), key(2), filepath.Join(t.TempDir(), "d")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := c.Lookup("../etc"); !errors.Is(err, ErrBadKey) {
		t.Errorf("lookup of a bad key: %v, want ErrBadKey", err)
	}
}

// TestCorruptEntriesAreDiscarded damages a stored entry in the ways a disk
// or a crash can: a flipped byte, a truncated archive, a missing archive,
// unreadable metadata. Restore must refuse it, delete it and leave no tree.
func TestCorruptEntriesAreDiscarded(t *testing.T) {
	damage := map[string]func(t *testing.T, dir string){
		"flipped byte": func(t *testing.T, dir string) {
			flip(t, filepath.Join(dir, archiveName))
		},
		"truncated archive": func(t *testing.T, dir string) {
			p := filepath.Join(dir, archiveName)
			info, _ := os.Stat(p)
			if err := os.Truncate(p, info.Size()/2); err != nil {
				t.Fatal(err)
			}
		},
		"missing archive": func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, archiveName)); err != nil {
				t.Fatal(err)
			}
		},
		"garbled metadata": func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, entryName), []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"metadata of another key": func(t *testing.T, dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, entryName))
			data = []byte(strings.Replace(string(data), key(3), key(4), 1))
			if err := os.WriteFile(filepath.Join(dir, entryName), data, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			c, _ := newCache(t, 0)
			ctx := context.Background()
			tree := filepath.Join(t.TempDir(), "tree")
			sampleTree(t, tree, strings.Repeat("some content to compress ", 1000))
			if _, err := c.Store(ctx, key(3), "bootstrap", tree); err != nil {
				t.Fatal(err)
			}
			fn(t, c.entryDir(key(3)))
			dest := filepath.Join(t.TempDir(), "restored")
			_, err := c.Restore(ctx, key(3), dest)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("restore of a damaged entry: %v, want ErrCorrupt", err)
			}
			if _, err := os.Stat(dest); !os.IsNotExist(err) {
				t.Errorf("a tree was restored from a corrupt entry: %v", err)
			}
			if _, err := os.Stat(c.entryDir(key(3))); !os.IsNotExist(err) {
				t.Errorf("corrupt entry kept: %v", err)
			}
			if _, err := c.Restore(ctx, key(3), dest); !errors.Is(err, ErrNotFound) {
				t.Errorf("after discarding: %v, want ErrNotFound", err)
			}
		})
	}
}

func flip(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEvictionIsLeastRecentlyUsedFirst fills a cache past its limit: the
// entry used longest ago goes first, a recently restored one stays.
func TestEvictionIsLeastRecentlyUsedFirst(t *testing.T) {
	ctx := context.Background()
	probe, _ := newCache(t, 0)
	tree := filepath.Join(t.TempDir(), "tree")
	sampleTree(t, tree, "x\n")
	e, err := probe.Store(ctx, key(9), "bootstrap", tree)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newCache(t, 3*e.Size+e.Size/2) // room for three entries of about this size
	for i := 1; i <= 3; i++ {
		if _, err := c.Store(ctx, key(i), "bootstrap", tree); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Restore(ctx, key(1), filepath.Join(t.TempDir(), "r")); err != nil { // 1 is now the most recent
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, key(4), "bootstrap", tree); err != nil { // over the limit: 2 goes
		t.Fatal(err)
	}
	if got := keys(t, c); got != "4 1 3" {
		t.Errorf("entries after eviction (most recent first): %s, want 4 1 3", got)
	}
	removed, err := c.Prune(e.Size + e.Size/2)
	if err != nil || len(removed) != 2 || keys(t, c) != "4" {
		t.Errorf("prune to one entry: removed %d (%v), left %s", len(removed), err, keys(t, c))
	}
	if removed, err := c.Prune(0); err != nil || len(removed) != 1 || keys(t, c) != "" {
		t.Errorf("prune all: removed %d (%v), left %q", len(removed), err, keys(t, c))
	}
}

func keys(t *testing.T, c *Cache) string {
	t.Helper()
	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimLeft(e.Key, "0"))
	}
	return strings.Join(out, " ")
}

func TestStoreKeepsAnExistingEntry(t *testing.T) {
	c, _ := newCache(t, 0)
	ctx := context.Background()
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	sampleTree(t, a, "first\n")
	sampleTree(t, b, "second\n")
	first, err := c.Store(ctx, key(5), "bootstrap", a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, key(5), "bootstrap", b); err != nil {
		t.Fatal(err)
	}
	if e, err := c.Lookup(key(5)); err != nil || e.Digest != first.Digest {
		t.Errorf("second store replaced the entry: %+v %v", e, err)
	}
	des, _ := os.ReadDir(c.Dir())
	if len(des) != 1 {
		t.Errorf("cache directory holds %d names, want just the entry", len(des))
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		got  []string
		want string
	}{
		{CreateArgs("/t"), "tar --create --file=- --directory=/t --format=posix --numeric-owner --xattrs --xattrs-include=* --acls --sort=name --one-file-system --use-compress-program=zstd -T0 -1 -q ."},
		{ExtractArgs("/d"), "tar --extract --file=- --directory=/d --numeric-owner --same-owner --preserve-permissions --xattrs --xattrs-include=* --acls --use-compress-program=zstd -q"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("argv\n got %s\nwant %s", got, tt.want)
		}
	}
}

// TestCopyTreeMatchesRestore: a tree copied through the tar pipe is the
// tree a restore of its entry gives.
func TestCopyTreeMatchesRestore(t *testing.T) {
	c, _ := newCache(t, 0)
	ctx := context.Background()
	tree := filepath.Join(t.TempDir(), "tree")
	sampleTree(t, tree, "copy me\n")
	copied := filepath.Join(t.TempDir(), "copied")
	if err := CopyTree(ctx, runner.Exec{}, tree, copied); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Store(ctx, key(7), "bootstrap", tree); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := c.Restore(ctx, key(7), restored); err != nil {
		t.Fatal(err)
	}
	a, b := describe(t, copied), describe(t, restored)
	for p, d := range b {
		if a[p] != d {
			t.Errorf("%s: copied %q, restored %q", p, a[p], d)
		}
	}
	if len(a) != len(b) || len(a) < 8 {
		t.Errorf("copied %d paths, restored %d", len(a), len(b))
	}
	if err := CopyTree(ctx, runner.Exec{}, filepath.Join(t.TempDir(), "missing"), filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("copying a missing tree succeeded")
	}
}
