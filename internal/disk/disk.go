// Package disk turns a prepared root tree into a bootable disk image on a
// plain file, with no mounts, loop devices or device-mapper: a GPT disk laid
// out like Debian's cloud images (BIOS boot partition 14, ESP 15, ext4 root
// 1 last on disk), GRUB for both BIOS and UEFI, and raw → qcow2 conversion.
//
// Every identifier on the disk (disk and partition GUIDs, filesystem UUID,
// hash seed, FAT volume id) is derived from a seed, so the same tree and
// seed give the same disk.
package disk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/runner"
)

// Tools lists the host programs Build and ConvertQCOW2 run, for
// runner.Require.
func Tools() []string {
	return []string{"sfdisk", "mkfs.ext4", "debugfs", "mformat", "mmd", "mcopy", "grub-mkimage", "qemu-img"}
}

// Options says what disk to build.
type Options struct {
	Tree            string // prepared root tree, with /boot/vmlinuz-* and /boot/initrd.img-*
	Output          string // raw image path to write
	Size            int64  // disk size in bytes, a multiple of 512
	Seed            string // build ID; every UUID and GUID derives from it
	SourceDateEpoch int64  // timestamps for reproducible builds; 0 = now
	GrubDir         string // GRUB platform directories; default DefaultGrubDir
	WorkDir         string // scratch directory for partition images; the caller removes it
	Progress        progress.Sink
	Logger          *slog.Logger
}

// ErrInvalidOptions is wrapped by every Options.Validate failure.
var ErrInvalidOptions = errors.New("invalid disk options")

// Validate checks that o names everything Build needs.
func (o Options) Validate() error {
	missing := func(what string) error {
		return fmt.Errorf("checking disk options: %s not set: %w", what, ErrInvalidOptions)
	}
	switch {
	case o.Tree == "":
		return missing("tree")
	case o.Output == "":
		return missing("output")
	case o.WorkDir == "":
		return missing("work directory")
	case o.Seed == "":
		return missing("seed")
	case o.Size <= 0:
		return missing("size")
	}
	if st, err := os.Stat(o.Tree); err != nil || !st.IsDir() {
		return fmt.Errorf("checking disk options: tree %s is not a directory: %w", o.Tree, ErrInvalidOptions)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.GrubDir == "" {
		o.GrubDir = DefaultGrubDir
	}
	if o.Progress == nil {
		o.Progress = progress.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// builder carries one Build's state between its steps.
type builder struct {
	r                                runner.Runner
	o                                Options
	l                                Layout
	kver                             string
	coreImg, efiImg, espImg, rootImg string
}

// Build writes the raw disk image o.Output from o.Tree. It first writes
// grub.cfg, fstab, /boot/efi and GRUB's modules into the tree. The image is
// written to a temporary file and renamed into place when complete.
func Build(ctx context.Context, r runner.Runner, o Options) (Layout, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return Layout{}, err
	}
	l, err := PlanLayout(o.Size, o.Seed)
	if err != nil {
		return Layout{}, err
	}
	b := &builder{r: r, o: o, l: l,
		coreImg: filepath.Join(o.WorkDir, "core.img"),
		efiImg:  filepath.Join(o.WorkDir, "grubx64.efi"),
		espImg:  filepath.Join(o.WorkDir, "esp.img"),
		rootImg: filepath.Join(o.WorkDir, "root.img"),
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"disk-tree", b.prepareTree},
		{"disk-bootloader", b.makeGrubImages},
		{"disk-esp", b.makeESP},
		{"disk-rootfs", b.makeRootFS},
		{"disk-assemble", b.assemble},
	}
	for _, s := range steps {
		done := progress.Stage(o.Progress, s.name)
		err := s.run(ctx)
		done(err)
		if err != nil {
			return Layout{}, err
		}
	}
	return l, nil
}

func (b *builder) run(ctx context.Context, args, env []string) error {
	b.o.Logger.Debug("running", "cmd", args)
	_, err := b.r.Run(ctx, runner.Cmd{Args: args, Env: env})
	return err
}

func (b *builder) prepareTree(context.Context) error {
	kver, err := FindKernel(b.o.Tree)
	if err != nil {
		return err
	}
	b.kver = kver
	b.o.Logger.Info("preparing tree", "kernel", kver, "root_uuid", b.l.RootUUID)
	return PrepareTree(b.o.Tree, b.o.GrubDir, kver, b.l, b.o.SourceDateEpoch)
}

func (b *builder) makeGrubImages(ctx context.Context) error {
	cfg := filepath.Join(b.o.WorkDir, "early.cfg")
	if err := writeFile(cfg, []byte(EarlyConfig(b.l.RootUUID)), 0o644); err != nil {
		return err
	}
	images := []struct {
		target GrubTarget
		out    string
	}{{GrubBIOS, b.coreImg}, {GrubEFI, b.efiImg}}
	for _, im := range images {
		if err := b.run(ctx, GrubMkimageArgs(im.target, b.o.GrubDir, cfg, im.out), nil); err != nil {
			return fmt.Errorf("making GRUB %s image: %w", im.target, err)
		}
	}
	return stampTimes(b.o.SourceDateEpoch, b.efiImg)
}

func (b *builder) makeESP(ctx context.Context) error {
	if err := createSized(b.espImg, b.l.ESP.Size); err != nil {
		return err
	}
	env := mtoolsEnv(b.o.SourceDateEpoch)
	cmds := [][]string{
		MformatArgs(b.espImg, b.l.ESPVolumeID),
		MmdArgs(b.espImg, espDirs...),
		McopyArgs(b.espImg, b.efiImg, espFallbackPath),
		McopyArgs(b.espImg, b.efiImg, espDebianPath),
	}
	for _, args := range cmds {
		if err := b.run(ctx, args, env); err != nil {
			return fmt.Errorf("making ESP: %w", err)
		}
	}
	return nil
}

func (b *builder) makeRootFS(ctx context.Context) error {
	if err := createSized(b.rootImg, b.l.Root.Size); err != nil {
		return err
	}
	err := b.run(ctx, MkfsArgs(b.rootImg, b.o.Tree, b.l), MkfsEnv(b.o.SourceDateEpoch))
	if err != nil {
		return fmt.Errorf("making root filesystem: %w", err)
	}
	return b.clampTimes(ctx)
}

// clampTimes makes the root filesystem's inode times reproducible; see
// ClampScript.
func (b *builder) clampTimes(ctx context.Context) error {
	epoch := b.o.SourceDateEpoch
	if epoch <= 0 {
		return nil
	}
	script, skipped, err := ClampScript(b.o.Tree, epoch)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		b.o.Logger.Warn("times not clamped: unquotable paths", "paths", skipped)
	}
	path := filepath.Join(b.o.WorkDir, "clamp.debugfs")
	if err := writeFile(path, []byte(script), 0o644); err != nil {
		return err
	}
	if err := b.run(ctx, DebugfsArgs(b.rootImg, path), MkfsEnv(epoch)); err != nil {
		return fmt.Errorf("clamping root filesystem times: %w", err)
	}
	return nil
}

// assemble writes the partition table, the partition images and the BIOS
// boot code into a temporary disk file, then renames it to o.Output.
func (b *builder) assemble(ctx context.Context) (err error) {
	tmp := b.o.Output + ".tmp"
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := createSized(tmp, b.l.Size); err != nil {
		return err
	}
	script := SfdiskScript(b.l, tmp)
	if _, err := b.r.Run(ctx, runner.Cmd{Args: SfdiskArgs(tmp), Stdin: strings.NewReader(script)}); err != nil {
		return fmt.Errorf("partitioning %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", tmp, err)
	}
	err = b.fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing disk %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, b.o.Output); err != nil {
		return fmt.Errorf("writing disk %s: %w", b.o.Output, err)
	}
	return nil
}

// fill copies the filesystems and GRUB's BIOS boot code onto the disk.
func (b *builder) fill(f *os.File) error {
	report := func(done, total int64) {
		b.o.Progress.Emit(progress.Event{Time: time.Now(), Kind: progress.Bytes, Stage: "disk-assemble", Done: done, Total: total})
	}
	if err := writeImageAt(f, b.espImg, b.l.ESP.Start, b.l.ESP.Size, nil); err != nil {
		return err
	}
	if err := writeImageAt(f, b.rootImg, b.l.Root.Start, b.l.Root.Size, report); err != nil {
		return err
	}
	bootImg, err := os.ReadFile(filepath.Join(b.o.GrubDir, string(GrubBIOS), "boot.img"))
	if err != nil {
		return fmt.Errorf("reading boot.img: %w", err)
	}
	coreImg, err := os.ReadFile(b.coreImg)
	if err != nil {
		return fmt.Errorf("reading core.img: %w", err)
	}
	if int64(len(coreImg)) > b.l.BIOSBoot.Size {
		return fmt.Errorf("fitting core.img (%d bytes) into the BIOS boot partition: %w", len(coreImg), ErrTooLarge)
	}
	return WriteBIOSBoot(f, bootImg, coreImg, b.l.BIOSBoot.StartLBA())
}

// createSized creates (or truncates) path as a sparse file of size bytes.
func createSized(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sizing %s to %d bytes: %w", path, size, err)
	}
	return nil
}
