package boottest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

// boot is one boot of the image under one firmware.
type boot struct {
	*checker
	fw qemu.Firmware
}

// path names a file of this boot in the work directory.
func (b *boot) path(name string) string {
	return filepath.Join(b.o.WorkDir, string(b.fw)+"-"+name)
}

// OverlayArgs returns the qemu-img command line that creates overlay, a
// qcow2 whose reads fall through to image and whose writes stay in it.
func OverlayArgs(image, overlay string) []string {
	return []string{"qemu-img", "create", "-q", "-f", "qcow2", "-b", image, "-F", "qcow2", overlay}
}

// run boots the machine and waits for a pattern; it returns the pattern,
// the time from QEMU's start and, when the boot failed, why.
func (b *boot) run(ctx context.Context) (string, time.Duration, error) {
	overlay, err := b.createOverlay(ctx)
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(overlay)
	qo := qemu.Options{Binary: b.o.QEMU, Image: overlay, Firmware: b.fw, Accel: b.accel,
		MemoryMiB: b.o.MemoryMiB, CPUs: b.o.CPUs, SerialLog: b.path("console.log")}
	if b.seedISO != "" {
		qo.ExtraDrives = []string{b.seedISO}
	}
	if b.fw == qemu.UEFI {
		if qo.OVMFCode, qo.OVMFVars, err = b.firmware(); err != nil {
			return "", 0, err
		}
		defer os.Remove(qo.OVMFVars)
	}
	// The machine's own deadline backs up the console wait's.
	vmCtx, cancel := context.WithTimeout(ctx, b.o.Timeout+time.Minute)
	defer cancel()
	m, err := qemu.Start(vmCtx, qo)
	if err != nil {
		return "", 0, err
	}
	defer m.Stop()
	matched, err := m.WaitForConsole(ctx, b.o.Patterns, b.o.Timeout)
	elapsed := time.Since(m.Started())
	if stopErr := m.Stop(); stopErr != nil && err == nil {
		err = stopErr
	}
	return matched, elapsed, err
}

func (b *boot) createOverlay(ctx context.Context) (string, error) {
	image, err := filepath.Abs(b.o.Image)
	if err != nil {
		return "", fmt.Errorf("creating overlay: %w", err)
	}
	overlay := b.path("overlay.qcow2")
	if _, err := b.r.Run(ctx, runner.Cmd{Args: OverlayArgs(image, overlay)}); err != nil {
		return "", fmt.Errorf("creating overlay of %s: %w", image, err)
	}
	return overlay, nil
}

// firmware returns the OVMF code and a fresh copy of the variable store.
func (b *boot) firmware() (code, vars string, err error) {
	return copyFirmware(b.o.OVMFCode, b.o.OVMFVars, b.path("OVMF_VARS.fd"))
}

// copyFirmware returns the OVMF code (default: qemu.FindOVMF) and vars, a
// fresh copy of the variable store template.
func copyFirmware(code, template, vars string) (string, string, error) {
	if code == "" || template == "" {
		var err error
		if code, template, err = qemu.FindOVMF(); err != nil {
			return "", "", err
		}
	}
	if err := copyFile(template, vars); err != nil {
		return "", "", fmt.Errorf("copying UEFI variables: %w", err)
	}
	return code, vars, nil
}

// keepConsole copies the console log to o.KeepConsole and returns the
// copy's path, or "" when there is nothing to keep or nowhere to keep it.
func (b *boot) keepConsole() string {
	src := b.path("console.log")
	if b.o.KeepConsole == "" || !fileExists(src) {
		return ""
	}
	dst := filepath.Join(b.o.KeepConsole, fmt.Sprintf("%s-%s-console.log", imageName(b.o.Image), b.fw))
	if err := os.MkdirAll(b.o.KeepConsole, 0o755); err != nil {
		b.o.Logger.Warn("keeping console log", "err", err)
		return ""
	}
	if err := copyFile(src, dst); err != nil {
		b.o.Logger.Warn("keeping console log", "err", err)
		return ""
	}
	return dst
}

// copyFile copies src to dst atomically: a temporary file in dst's
// directory, synced, then renamed over dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
