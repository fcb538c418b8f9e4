// Package treehash digests directory trees by content: the same files give
// the same digest wherever and whenever they were copied.
package treehash

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is a directory's digest: sha256 over every entry's relative
// path, kind (directory, file, executable file or symlink, as git records
// them) and content (a symlink's target), in sorted order. Times and
// owners do not count, so a copy of an element hashes the same.
func Dir(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return hashEntry(h, dir, p, d)
	})
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", dir, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func hashEntry(h io.Writer, root, p string, d fs.DirEntry) error {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return err
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s\x00%s\x00", filepath.ToSlash(rel), kind(info.Mode()))
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		fmt.Fprintf(h, "%s\x00", target)
		return err
	case info.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(h, "%d\x00", info.Size())
		_, err = io.Copy(h, f)
		return err
	}
	return nil
}

// kind is the part of a mode that git keeps.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "dir"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case !m.IsRegular():
		return "other"
	case m&0o111 != 0:
		return "executable"
	}
	return "file"
}
