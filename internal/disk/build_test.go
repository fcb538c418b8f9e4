package disk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/runner"
)

// fakeTools records commands like runner.Recorder and creates the files the
// real tools would: grub-mkimage's image and qemu-img's output.
type fakeTools struct {
	runner.Recorder
	stdin []string
}

func (f *fakeTools) Run(ctx context.Context, c runner.Cmd) ([]byte, error) {
	if c.Stdin != nil {
		var b bytes.Buffer
		b.ReadFrom(c.Stdin)
		f.stdin = append(f.stdin, b.String())
	}
	out, err := f.Recorder.Run(ctx, c)
	if err != nil {
		return out, err
	}
	switch c.Args[0] {
	case "grub-mkimage":
		return out, os.WriteFile(argAfter(c.Args, "-o"), fakeCoreImg(30*SectorSize), 0o644)
	case "qemu-img":
		return out, os.WriteFile(c.Args[len(c.Args)-1], []byte("QFI\xfb"), 0o644)
	}
	return out, nil
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func buildOptions(t *testing.T) Options {
	t.Helper()
	tree, work, out := t.TempDir(), t.TempDir(), t.TempDir()
	touch(t, filepath.Join(tree, "boot", "vmlinuz-6.1.0-18-cloud-amd64"))
	touch(t, filepath.Join(tree, "boot", "initrd.img-6.1.0-18-cloud-amd64"))
	return Options{
		Tree: tree, Output: filepath.Join(out, "disk.raw"), Size: 1 << 30, Seed: "unit",
		SourceDateEpoch: 1700000000, GrubDir: fakeGrubDir(t), WorkDir: work,
	}
}

func TestBuildCommands(t *testing.T) {
	o := buildOptions(t)
	events := &progress.Recorder{}
	o.Progress = events
	r := &fakeTools{}
	l, err := Build(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	w, tmp := o.WorkDir, o.Output+".tmp"
	want := []string{
		strings.Join(GrubMkimageArgs(GrubBIOS, o.GrubDir, w+"/early.cfg", w+"/core.img"), " "),
		strings.Join(GrubMkimageArgs(GrubEFI, o.GrubDir, w+"/early.cfg", w+"/grubx64.efi"), " "),
		"mformat -i " + w + "/esp.img -F -N " + volumeSerial(l.ESPVolumeID) + " -v ESP ::",
		"mmd -i " + w + "/esp.img ::/EFI ::/EFI/BOOT ::/EFI/debian",
		"mcopy -i " + w + "/esp.img -m " + w + "/grubx64.efi ::/EFI/BOOT/BOOTX64.EFI",
		"mcopy -i " + w + "/esp.img -m " + w + "/grubx64.efi ::/EFI/debian/grubx64.efi",
		strings.Join(MkfsArgs(w+"/root.img", o.Tree, l), " "),
		"debugfs -w -f " + w + "/clamp.debugfs " + w + "/root.img",
		"sfdisk --quiet --no-reread --no-tell-kernel " + tmp,
	}
	got := r.Argvs()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(r.stdin) != 1 || r.stdin[0] != SfdiskScript(l, tmp) {
		t.Errorf("sfdisk input = %q", r.stdin)
	}
	for _, c := range r.Cmds {
		if c.Args[0] == "mkfs.ext4" && strings.Join(c.Env, " ") != "E2FSPROGS_FAKE_TIME=1700000000" {
			t.Errorf("mkfs env = %q", c.Env)
		}
	}
	checkBuiltDisk(t, o, l)
	kinds := map[progress.Kind]int{}
	for _, e := range events.Events {
		kinds[e.Kind]++
		if e.Kind == progress.Bytes && (e.Done != e.Total || e.Time.IsZero()) {
			t.Errorf("bytes event %+v", e)
		}
	}
	if kinds[progress.StageStart] != 5 || kinds[progress.StageDone] != 5 || kinds[progress.Bytes] == 0 {
		t.Errorf("progress events: %v", kinds)
	}
}

func checkBuiltDisk(t *testing.T, o Options, l Layout) {
	t.Helper()
	st, err := os.Stat(o.Output)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != o.Size {
		t.Errorf("disk size = %d, want %d", st.Size(), o.Size)
	}
	if _, err := os.Stat(o.Output + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary disk left behind: %v", err)
	}
	f, err := os.Open(o.Output)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mbr := make([]byte, SectorSize)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	if lba := binary.LittleEndian.Uint64(mbr[bootKernelSector:]); lba != uint64(l.BIOSBoot.StartLBA()) {
		t.Errorf("MBR points at LBA %d, want %d", lba, l.BIOSBoot.StartLBA())
	}
	cfg, err := os.ReadFile(filepath.Join(o.Tree, "boot", "grub", "grub.cfg"))
	if err != nil || !strings.Contains(string(cfg), "root=UUID="+l.RootUUID) {
		t.Errorf("grub.cfg = %q, %v", cfg, err)
	}
}

func TestBuildFailureLeavesNoDisk(t *testing.T) {
	o := buildOptions(t)
	r := &fakeTools{}
	r.Errs = map[string]error{"sfdisk": errors.New("boom")}
	if _, err := Build(context.Background(), r, o); err == nil || !strings.Contains(err.Error(), "partitioning") {
		t.Fatalf("err = %v, want a partitioning error", err)
	}
	for _, p := range []string{o.Output, o.Output + ".tmp"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after a failed build", p)
		}
	}
}

func TestBuildCoreTooLarge(t *testing.T) {
	o := buildOptions(t)
	r := &bigCore{}
	if _, err := Build(context.Background(), r, o); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// bigCore makes a core.img larger than the BIOS boot partition.
type bigCore struct{ fakeTools }

func (b *bigCore) Run(ctx context.Context, c runner.Cmd) ([]byte, error) {
	out, err := b.fakeTools.Run(ctx, c)
	if err == nil && c.Args[0] == "grub-mkimage" {
		err = os.WriteFile(argAfter(c.Args, "-o"), fakeCoreImg(biosBootSize+SectorSize), 0o644)
	}
	return out, err
}

func TestOptionsValidate(t *testing.T) {
	good := buildOptions(t)
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"no tree", func(o *Options) { o.Tree = "" }},
		{"tree missing", func(o *Options) { o.Tree = filepath.Join(o.WorkDir, "missing") }},
		{"no output", func(o *Options) { o.Output = "" }},
		{"no workdir", func(o *Options) { o.WorkDir = "" }},
		{"no seed", func(o *Options) { o.Seed = "" }},
		{"no size", func(o *Options) { o.Size = 0 }},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good options: %v", err)
	}
	for _, tt := range tests {
		o := good
		tt.edit(&o)
		if err := o.Validate(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", tt.name, err)
		}
	}
}

func TestConvertQCOW2(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "disk.qcow2")
	r := &fakeTools{}
	if err := ConvertQCOW2(context.Background(), r, "/w/disk.raw", out, QCOW2Options{Compression: "zstd"}); err != nil {
		t.Fatal(err)
	}
	want := "qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd /w/disk.raw " + out + ".tmp"
	if got := r.Argvs(); len(got) != 1 || got[0] != want {
		t.Errorf("commands = %q, want %q", got, want)
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(out + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Error("temporary qcow2 left behind")
	}
}

func TestConvertQCOW2Errors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "disk.qcow2")
	err := ConvertQCOW2(context.Background(), &fakeTools{}, "/w/disk.raw", out, QCOW2Options{Compression: "lz4"})
	if !errors.Is(err, ErrCompression) {
		t.Errorf("err = %v, want ErrCompression", err)
	}
	failing := &fakeTools{}
	failing.Errs = map[string]error{"qemu-img": &runner.Error{Cmd: "qemu-img", ExitCode: 1}}
	err = ConvertQCOW2(context.Background(), failing, "/w/disk.raw", out, QCOW2Options{Compression: "zstd"})
	var re *runner.Error
	if !errors.As(err, &re) {
		t.Errorf("err = %v, want a *runner.Error", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Error("output exists after a failed conversion")
	}
	if err := ConvertQCOW2(context.Background(), failing, "/w/missing.raw", out, QCOW2Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("zlib from a missing raw: err = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Error("output exists after a failed zlib write")
	}
}

func TestWriteImageAt(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "part.img")
	// data, a 3 MiB hole, more data: the hole must not be written.
	img, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	img.WriteAt([]byte("head"), 0)
	img.WriteAt([]byte("tail"), 4*MiB)
	img.Close()
	dst, err := os.Create(filepath.Join(dir, "disk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	dst.Truncate(16 * MiB)
	var last int64
	if err := writeImageAt(dst, src, 8*MiB, 8*MiB, func(done, total int64) { last = done }); err != nil {
		t.Fatal(err)
	}
	for off, want := range map[int64]string{8 * MiB: "head", 12 * MiB: "tail", 10 * MiB: "\x00\x00\x00\x00"} {
		got := make([]byte, 4)
		dst.ReadAt(got, off)
		if string(got) != want {
			t.Errorf("at %d: %q, want %q", off, got, want)
		}
	}
	if last != 4*MiB+4 {
		t.Errorf("last progress = %d, want %d", last, 4*MiB+4)
	}
	if err := writeImageAt(dst, src, 0, MiB, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}
