// Package treediff compares two root trees given as tar streams, entry by
// entry: type, mode, owner, modification time, size, link target, extended
// attributes and content (sha256). It names the paths that differ, which
// is what `bakery verify` prints when a rebuild is not identical.
package treediff

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// Entry is what is compared of one tar entry.
type Entry struct {
	Path     string    `json:"path"` // absolute, cleaned: "/etc/passwd", "/" for the root
	Type     string    `json:"type"` // file, dir, symlink, hardlink, char, block, fifo
	Mode     int64     `json:"mode"` // permission and set-id bits
	UID      int       `json:"uid"`
	GID      int       `json:"gid"`
	MTime    time.Time `json:"mtime"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256,omitempty"`   // regular files
	Linkname string    `json:"linkname,omitempty"` // symlinks and hard links
	Device   string    `json:"device,omitempty"`   // "major:minor" of device nodes
	Xattrs   string    `json:"xattrs,omitempty"`   // sorted "name=value" lines
}

// Tree is the entries of one tarball by path.
type Tree map[string]Entry

// Change says how a path differs between the first and the second tree.
type Change string

// The changes.
const (
	Changed Change = "changed" // in both, some field differs
	Removed Change = "removed" // only in the first tree
	Added   Change = "added"   // only in the second tree
)

// Difference is one path that differs, with the fields that do.
type Difference struct {
	Path   string   `json:"path"`
	Change Change   `json:"change"`
	Fields []string `json:"fields,omitempty"` // for Changed: type, mode, owner, mtime, size, content, link, device, xattrs
}

func (d Difference) String() string {
	if d.Change == Changed {
		return fmt.Sprintf("%s: %s differ", d.Path, strings.Join(d.Fields, ", "))
	}
	return fmt.Sprintf("%s: %s", d.Path, d.Change)
}

// ErrDuplicate is wrapped by Read for a tarball that names a path twice.
var ErrDuplicate = errors.New("path appears twice in the tarball")

// Read reads an uncompressed tar stream and hashes each regular file.
func Read(r io.Reader) (Tree, error) {
	tr := tar.NewReader(r)
	tree := Tree{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tree, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading tarball: %w", err)
		}
		e, err := entry(hdr, tr)
		if err != nil {
			return nil, err
		}
		if _, dup := tree[e.Path]; dup {
			return nil, fmt.Errorf("reading tarball: %s: %w", e.Path, ErrDuplicate)
		}
		tree[e.Path] = e
	}
}

func entry(hdr *tar.Header, content io.Reader) (Entry, error) {
	e := Entry{
		Path: clean(hdr.Name), Type: typeName(hdr.Typeflag), Mode: hdr.Mode & 0o7777,
		UID: hdr.Uid, GID: hdr.Gid, MTime: hdr.ModTime.UTC(), Size: hdr.Size, Xattrs: xattrs(hdr),
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		h := sha256.New()
		if _, err := io.Copy(h, content); err != nil {
			return Entry{}, fmt.Errorf("reading %s from tarball: %w", e.Path, err)
		}
		e.SHA256 = hex.EncodeToString(h.Sum(nil))
	case tar.TypeSymlink:
		e.Linkname = hdr.Linkname
	case tar.TypeLink:
		e.Linkname = clean(hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		e.Device = fmt.Sprintf("%d:%d", hdr.Devmajor, hdr.Devminor)
	}
	return e, nil
}

// clean makes tar names comparable: "./etc/" → "/etc", "." → "/".
func clean(name string) string {
	return path.Clean("/" + strings.TrimPrefix(name, "./"))
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeReg:
		return "file"
	case tar.TypeDir:
		return "dir"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	case tar.TypeChar:
		return "char"
	case tar.TypeBlock:
		return "block"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("type %q", flag)
}

// xattrs renders the entry's extended attributes (SCHILY.xattr PAX records)
// as sorted lines.
func xattrs(hdr *tar.Header) string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(hdr.PAXRecords)) {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			lines = append(lines, name+"="+hdr.PAXRecords[k])
		}
	}
	return strings.Join(lines, "\n")
}

// Compare lists every path that differs between a and b, sorted by path.
func Compare(a, b Tree) []Difference {
	var diffs []Difference
	for p, x := range a {
		y, ok := b[p]
		if !ok {
			diffs = append(diffs, Difference{Path: p, Change: Removed})
		} else if f := fields(x, y); len(f) > 0 {
			diffs = append(diffs, Difference{Path: p, Change: Changed, Fields: f})
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			diffs = append(diffs, Difference{Path: p, Change: Added})
		}
	}
	slices.SortFunc(diffs, func(x, y Difference) int { return strings.Compare(x.Path, y.Path) })
	return diffs
}

func fields(x, y Entry) []string {
	checks := []struct {
		name string
		same bool
	}{
		{"type", x.Type == y.Type},
		{"mode", x.Mode == y.Mode},
		{"owner", x.UID == y.UID && x.GID == y.GID},
		{"mtime", x.MTime.Equal(y.MTime)},
		{"size", x.Size == y.Size},
		{"content", x.SHA256 == y.SHA256},
		{"link", x.Linkname == y.Linkname},
		{"device", x.Device == y.Device},
		{"xattrs", x.Xattrs == y.Xattrs},
	}
	var out []string
	for _, c := range checks {
		if !c.same {
			out = append(out, c.name)
		}
	}
	return out
}
