package hygiene

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
)

// tree is a root filesystem opened as an *os.Root: no operation can leave it.
// Names are slash-separated and relative to the tree ("etc/shadow").
type tree struct {
	root *os.Root
	fsys fs.FS
}

func openTree(dir string) (tree, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return tree{}, fmt.Errorf("opening tree %s: %w", dir, err)
	}
	return tree{root: r, fsys: r.FS()}, nil
}

func (t tree) close() { t.root.Close() }

// lstat returns the file's info, or nil when it does not exist.
func (t tree) lstat(name string) (fs.FileInfo, error) {
	fi, err := t.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspecting /%s: %w", name, err)
	}
	return fi, nil
}

// existing returns those names that exist (as anything, links included).
func (t tree) existing(names ...string) ([]string, error) {
	var found []string
	for _, n := range names {
		fi, err := t.lstat(n)
		if err != nil {
			return nil, err
		}
		if fi != nil {
			found = append(found, n)
		}
	}
	return found, nil
}

// glob returns the sorted, unique names matching any of the patterns.
func (t tree) glob(patterns ...string) ([]string, error) {
	var found []string
	for _, p := range patterns {
		m, err := fs.Glob(t.fsys, p)
		if err != nil {
			return nil, fmt.Errorf("matching /%s: %w", p, err)
		}
		found = append(found, m...)
	}
	slices.Sort(found)
	return slices.Compact(found), nil
}

// entries returns the names of a directory's entries (joined with dir), or
// nothing when dir does not exist.
func (t tree) entries(dir string) ([]string, error) {
	des, err := fs.ReadDir(t.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing /%s: %w", dir, err)
	}
	names := make([]string, len(des))
	for i, de := range des {
		names[i] = path.Join(dir, de.Name())
	}
	return names, nil
}

// subdirs returns the real directories (not links to them) directly in dir.
func (t tree) subdirs(dir string) ([]string, error) {
	des, err := fs.ReadDir(t.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing /%s: %w", dir, err)
	}
	var names []string
	for _, de := range des {
		if de.IsDir() {
			names = append(names, path.Join(dir, de.Name()))
		}
	}
	return names, nil
}

// walk calls fn for every entry below dir (not dir itself), never descending
// through symbolic links. A missing dir is not an error. fn may return
// fs.SkipDir.
func (t tree) walk(dir string, fn func(name string, d fs.DirEntry) error) error {
	err := fs.WalkDir(t.fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipDir
			}
			return err
		}
		if name == dir {
			return nil
		}
		return fn(name, d)
	})
	if err != nil {
		return fmt.Errorf("walking /%s: %w", dir, err)
	}
	return nil
}

// regularFiles returns the regular files below dir that keep says to keep.
func (t tree) regularFiles(dir string, keep func(name string, fi fs.FileInfo) (bool, error)) ([]string, error) {
	var found []string
	err := t.walk(dir, func(name string, d fs.DirEntry) error {
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		ok, err := keep(name, fi)
		if ok {
			found = append(found, name)
		}
		return err
	})
	return found, err
}

// removeAll removes each name (a link is removed, never followed).
func (t tree) removeAll(names []string) error {
	var errs []error
	for _, n := range names {
		if err := t.root.RemoveAll(n); err != nil {
			errs = append(errs, fmt.Errorf("removing /%s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// truncate empties a regular file, keeping its mode and owner.
func (t tree) truncate(name string) error {
	fi, err := t.lstat(name)
	if err != nil || fi == nil || !fi.Mode().IsRegular() {
		return err
	}
	f, err := t.root.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("truncating /%s: %w", name, err)
	}
	return f.Close()
}

// readHead reads up to limit bytes from the start of a regular file.
func (t tree) readHead(name string, limit int64) ([]byte, error) {
	f, err := t.root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading /%s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("reading /%s: %w", name, err)
	}
	return data, nil
}

// writeFileAtomic replaces name with data through a temporary file in the
// same directory, fsynced and renamed into place, keeping mode and owner.
func (t tree) writeFileAtomic(name string, data []byte, like fs.FileInfo) error {
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".bakery-tmp")
	if err := t.root.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing stale /%s: %w", tmp, err)
	}
	if err := t.writeTemp(tmp, data, like); err != nil {
		t.root.Remove(tmp)
		return err
	}
	if err := t.root.Rename(tmp, name); err != nil {
		t.root.Remove(tmp)
		return fmt.Errorf("renaming /%s: %w", tmp, err)
	}
	return t.syncDir(path.Dir(name))
}

func (t tree) writeTemp(tmp string, data []byte, like fs.FileInfo) error {
	f, err := t.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, like.Mode().Perm())
	if err != nil {
		return fmt.Errorf("creating /%s: %w", tmp, err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing /%s: %w", tmp, err)
	}
	if err := f.Chmod(like.Mode().Perm()); err != nil { // the umask may have narrowed it
		return fmt.Errorf("setting mode of /%s: %w", tmp, err)
	}
	if err := chownLike(f, like); err != nil {
		return fmt.Errorf("setting owner of /%s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing /%s: %w", tmp, err)
	}
	return f.Close()
}

func (t tree) syncDir(dir string) error {
	d, err := t.root.Open(dir)
	if err != nil {
		return fmt.Errorf("opening /%s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing /%s: %w", dir, err)
	}
	return nil
}
