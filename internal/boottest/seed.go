package boottest

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SeedLabel is the volume label cloud-init's NoCloud data source looks for.
const SeedLabel = "cidata"

// Seed is a cloud-init NoCloud seed: what a machine learns about itself at
// first boot.
type Seed struct {
	UserData      []byte    // user-data, usually "#cloud-config\n..."
	MetaData      []byte    // meta-data: "instance-id: ...\nlocal-hostname: ...\n"
	NetworkConfig []byte    // network-config; left out when nil
	ModTime       time.Time // time stamps recorded in the image; zero: the Unix epoch, for reproducible seeds
}

func (s Seed) files() []isoFile {
	files := []isoFile{{"meta-data", s.MetaData}, {"user-data", s.UserData}}
	if s.NetworkConfig != nil {
		files = append(files, isoFile{"network-config", s.NetworkConfig})
	}
	return files
}

// ISO returns the seed as an ISO 9660 image labelled SeedLabel, with
// Joliet names, ready to attach to a machine as a read-only disk.
func (s Seed) ISO() ([]byte, error) {
	mtime := s.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	return buildISO(SeedLabel, s.files(), mtime)
}

// WriteSeed writes the seed's ISO image to path atomically.
func WriteSeed(path string, s Seed) error {
	img, err := s.ISO()
	if err != nil {
		return fmt.Errorf("writing seed %s: %w", path, err)
	}
	if err := writeFileAtomic(path, img); err != nil {
		return fmt.Errorf("writing seed %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it
// and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
