package fsstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/artifact/artifacttest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	artifacttest.Run(t, func(t *testing.T) artifact.Store { return newStore(t) })
}

func TestLayout(t *testing.T) {
	s := newStore(t)
	b, d := artifacttest.Blob(t, 100)
	if err := s.Put(context.Background(), d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	hex := strings.TrimPrefix(d, "sha256:")
	want := filepath.Join(s.Root(), "sha256", hex[:2], hex)
	fi, err := os.Stat(want)
	if err != nil {
		t.Fatalf("blob not at %s: %v", want, err)
	}
	if fi.Mode().Perm() != 0o444 {
		t.Errorf("blob mode = %v, want read-only 0444", fi.Mode().Perm())
	}
	if p, _ := s.Path(d); p != want {
		t.Errorf("Path = %s, want %s", p, want)
	}
	checkTmpEmpty(t, s)
}

func checkTmpEmpty(t *testing.T, s *Store) {
	t.Helper()
	left, err := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestFailedPutsLeaveNoTempFiles(t *testing.T) {
	s := newStore(t)
	_, d := artifacttest.Blob(t, 100)
	if err := s.Put(context.Background(), d, strings.NewReader("wrong")); !errors.Is(err, artifact.ErrDigestMismatch) {
		t.Fatalf("Put: %v, want ErrDigestMismatch", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, d, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: %v, want context.Canceled", err)
	}
	checkTmpEmpty(t, s)
}

func TestAdoptAcrossFilesystems(t *testing.T) {
	s := newStore(t)
	renames := 0
	s.rename = func(oldpath, newpath string) error {
		if !strings.HasPrefix(oldpath, s.Root()) {
			renames++
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EXDEV}
		}
		return os.Rename(oldpath, newpath)
	}
	b, d := artifacttest.Blob(t, 70_000)
	src := filepath.Join(t.TempDir(), "big.qcow2")
	if err := os.WriteFile(src, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Adopt(context.Background(), d, src); err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	if renames != 1 {
		t.Errorf("cross-filesystem rename attempted %d times, want 1", renames)
	}
	if _, err := os.Stat(src); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("source still present after copy fallback: %v", err)
	}
	if got := artifacttest.ReadAll(t, s, d); !bytes.Equal(got, b) {
		t.Error("adopted content differs")
	}
	checkTmpEmpty(t, s)
}

func TestAdoptMissingFile(t *testing.T) {
	s := newStore(t)
	_, d := artifacttest.Blob(t, 10)
	err := s.Adopt(context.Background(), d, filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Adopt of missing file: error = %v, want os.ErrNotExist", err)
	}
}

func TestNewOnExistingStore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s1, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	b, d := artifacttest.Blob(t, 10)
	if err := s1.Put(context.Background(), d, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	s2, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := artifacttest.ReadAll(t, s2, d); !bytes.Equal(got, b) {
		t.Error("reopened store lost the blob")
	}
}

func TestNewOnFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(f); err == nil {
		t.Error("New on a regular file succeeded, want an error")
	}
}
