package disk

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"
)

// mkfs.ext4 -d copies each file's atime, ctime and mtime from the tree, and
// a tree's ctimes are whenever it was copied, so two builds of one lock
// would differ. With a source date epoch, Build rewrites those times in the
// finished filesystem with debugfs: atime and ctime become the epoch, and
// mtimes later than the epoch are clamped to it.

// ClampScript renders the debugfs commands that set the times of every
// path under tree, as described above. Paths debugfs cannot quote (with a
// double quote or newline) are returned in skipped.
func ClampScript(tree string, epoch int64) (script string, skipped []string, err error) {
	stamp := debugfsTime(epoch)
	var b strings.Builder
	err = filepath.WalkDir(tree, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(tree, path)
		if err != nil {
			return err
		}
		p := "/" + filepath.ToSlash(rel)
		if rel == "." {
			p = "/"
		}
		if strings.ContainsAny(p, "\"\n") {
			skipped = append(skipped, p)
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "sif \"%s\" atime %s\nsif \"%s\" ctime %s\n", p, stamp, p, stamp)
		if info.ModTime().Unix() > epoch {
			fmt.Fprintf(&b, "sif \"%s\" mtime %s\n", p, stamp)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("listing %s: %w", tree, err)
	}
	return b.String(), skipped, nil
}

// debugfsTime formats t as debugfs reads times: YYYYMMDDHHMMSS in UTC.
func debugfsTime(epoch int64) string {
	return time.Unix(epoch, 0).UTC().Format("20060102150405")
}

// DebugfsArgs builds the debugfs command line that runs the commands in
// script against the filesystem image, writing.
func DebugfsArgs(image, script string) []string {
	return []string{"debugfs", "-w", "-f", script, image}
}
