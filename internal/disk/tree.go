package disk

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
)

// ErrNoKernel is returned when the tree's /boot holds no kernel with a
// matching initrd.
var ErrNoKernel = errors.New("no kernel with initrd in /boot")

// FindKernel returns the version of the newest kernel in tree/boot that has
// both vmlinuz-VERSION and initrd.img-VERSION.
func FindKernel(tree string) (string, error) {
	paths, err := filepath.Glob(filepath.Join(tree, "boot", "vmlinuz-*"))
	if err != nil {
		return "", fmt.Errorf("listing kernels in %s: %w", tree, err)
	}
	var best string
	for _, p := range paths {
		v := strings.TrimPrefix(filepath.Base(p), "vmlinuz-")
		if _, err := os.Stat(filepath.Join(tree, "boot", "initrd.img-"+v)); err != nil {
			continue
		}
		if best == "" || apt.CompareVersions(v, best) > 0 {
			best = v
		}
	}
	if best == "" {
		return "", fmt.Errorf("finding kernel in %s: %w", tree, ErrNoKernel)
	}
	return best, nil
}

// PrepareTree writes what the disk needs into the root tree: grub.cfg for
// kernel kver, fstab, the ESP mount point and GRUB's module directories
// copied from grubDir so the installed system is complete. With a source
// date epoch, every file and directory it touches gets that time.
func PrepareTree(tree, grubDir, kver string, l Layout, epoch int64) error {
	files := map[string]string{
		"boot/grub/grub.cfg": GrubConfig(kver, l.RootUUID),
		"etc/fstab":          Fstab(l),
	}
	var touched []string
	for rel, content := range files {
		p := filepath.Join(tree, rel)
		if err := writeFile(p, []byte(content), 0o644); err != nil {
			return err
		}
		touched = append(touched, p, filepath.Dir(p))
	}
	efi := filepath.Join(tree, "boot", "efi")
	if err := os.MkdirAll(efi, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", efi, err)
	}
	touched = append(touched, efi, filepath.Dir(efi))
	for _, t := range []GrubTarget{GrubBIOS, GrubEFI} {
		dst := filepath.Join(tree, "boot", "grub", string(t))
		if err := copyDir(filepath.Join(grubDir, string(t)), dst, epoch); err != nil {
			return err
		}
		touched = append(touched, dst)
	}
	return stampTimes(epoch, touched...)
}

// stampTimes sets the access and modification times of paths to epoch.
func stampTimes(epoch int64, paths ...string) error {
	if epoch <= 0 {
		return nil
	}
	t := time.Unix(epoch, 0)
	for _, p := range paths {
		if err := os.Chtimes(p, t, t); err != nil {
			return fmt.Errorf("setting times of %s: %w", p, err)
		}
	}
	return nil
}

// writeFile writes data to path atomically (temp file, fsync, rename),
// creating parent directories.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// copyDir copies the regular files directly inside src into dst.
func copyDir(src, dst string, epoch int64) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dst, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		to := filepath.Join(dst, e.Name())
		if err := copyFile(filepath.Join(src, e.Name()), to); err != nil {
			return err
		}
		if err := stampTimes(epoch, to); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return nil
}
