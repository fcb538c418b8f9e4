package disk

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/bakery-dev/bakery/internal/runner"
)

// QCOW2Options controls the raw → qcow2 conversion.
type QCOW2Options struct {
	// Compression is the qcow2 cluster compression: "zlib" (the default,
	// readable by every QEMU) or "zstd" (smaller and faster, QEMU ≥ 5.1).
	Compression string
	// Workers compress zlib clusters in parallel (0 = one per CPU).
	Workers int
}

// ErrCompression is returned for an unknown qcow2 compression type.
var ErrCompression = errors.New("unknown qcow2 compression (want zlib or zstd)")

// Validate checks the options.
func (o QCOW2Options) Validate() error {
	switch o.Compression {
	case "", "zlib", "zstd":
		return nil
	}
	return fmt.Errorf("checking qcow2 options: %q: %w", o.Compression, ErrCompression)
}

func (o QCOW2Options) compression() string {
	if o.Compression == "" {
		return "zlib"
	}
	return o.Compression
}

// QCOW2Writer says what writes the qcow2: "bakery" (WriteQCOW2, zlib) or
// "qemu-img" (zstd).
func QCOW2Writer(o QCOW2Options) string {
	if o.compression() == "zlib" {
		return "bakery"
	}
	return "qemu-img"
}

// QemuImgConvertArgs builds the qemu-img command line that converts the raw
// image to a compressed qcow2 at out.
func QemuImgConvertArgs(raw, out string, o QCOW2Options) []string {
	return []string{"qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c",
		"-o", "compression_type=" + o.compression(), raw, out}
}

// QemuImgCheckArgs builds the qemu-img command line that checks a qcow2 image.
func QemuImgCheckArgs(image string) []string {
	return []string{"qemu-img", "check", "-f", "qcow2", image}
}

// ConvertQCOW2 converts the raw image to a compressed qcow2 at out. It
// writes to a temporary file next to out and renames it into place, so out
// is either complete or absent. zlib images are written by WriteQCOW2
// (parallel and independent of the host's qemu-img); zstd ones by
// qemu-img convert.
func ConvertQCOW2(ctx context.Context, r runner.Runner, raw, out string, o QCOW2Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if QCOW2Writer(o) == "bakery" {
		return WriteQCOW2(ctx, raw, out, o.Workers)
	}
	tmp := out + ".tmp"
	defer os.Remove(tmp)
	if _, err := r.Run(ctx, runner.Cmd{Args: QemuImgConvertArgs(raw, tmp, o)}); err != nil {
		return fmt.Errorf("converting %s to qcow2: %w", raw, err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("writing qcow2 %s: %w", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("writing qcow2 %s: %w", out, err)
	}
	return nil
}

// syncFile flushes a file some other program wrote to stable storage.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
