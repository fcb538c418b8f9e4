package configtree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakery-dev/bakery/internal/runner"
)

// LockFile is where Bake records the tree's lock in the image.
const LockFile = "/etc/bakery/config.lock.json"

// copyArgs copies the contents of src into dst, keeping modes and links.
func copyArgs(src, dst string) []string {
	return []string{"cp", "-a", "--", src + "/.", dst}
}

// Bake copies the tree to path inside the image root, installs its
// modules into path/modules and writes the lock to LockFile.
func Bake(ctx context.Context, r runner.Runner, t *Tree, root, path string) error {
	dest, err := SafeDir(root, path)
	if err != nil {
		return err
	}
	if _, err := r.Run(ctx, runner.Cmd{Args: copyArgs(t.Dir, dest)}); err != nil {
		return fmt.Errorf("copying the config tree to %s: %w", path, err)
	}
	for _, m := range t.Modules {
		if err := installModule(ctx, r, m, root, filepath.Join(path, "modules", m.Name)); err != nil {
			return err
		}
	}
	return writeLock(t, root)
}

func installModule(ctx context.Context, r runner.Runner, m Module, root, path string) error {
	dest, err := SafeDir(root, path)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dest); err != nil { // the Puppetfile wins over a copy in the tree
		return fmt.Errorf("installing module %s: %w", m.Name, err)
	}
	if err := os.Mkdir(dest, 0o755); err != nil {
		return fmt.Errorf("installing module %s: %w", m.Name, err)
	}
	if _, err := r.Run(ctx, runner.Cmd{Args: copyArgs(m.Dir, dest)}); err != nil {
		return fmt.Errorf("installing module %s: %w", m.Name, err)
	}
	return nil
}

func writeLock(t *Tree, root string) error {
	dir, err := SafeDir(root, filepath.Dir(LockFile))
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(t.Lock(), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config lock: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(LockFile)), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", LockFile, err)
	}
	return nil
}

// ErrSymlinkInPath is returned when a path in the image root goes through a
// symbolic link, which could point out of the image onto the host.
var ErrSymlinkInPath = errors.New("path goes through a symbolic link")

// SafeDir returns root/path, creating missing directories, after checking
// that no existing part of it is a symbolic link.
func SafeDir(root, path string) (string, error) {
	cur := root
	for _, part := range strings.Split(strings.Trim(filepath.Clean("/"+path), "/"), "/") {
		if part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return "", fmt.Errorf("creating %s in the image: %w", path, err)
			}
		case err != nil:
			return "", fmt.Errorf("checking %s in the image: %w", path, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", fmt.Errorf("%s in the image: %w", path, ErrSymlinkInPath)
		case !fi.IsDir():
			return "", fmt.Errorf("%s in the image: %s is not a directory", path, cur)
		}
	}
	return cur, nil
}
