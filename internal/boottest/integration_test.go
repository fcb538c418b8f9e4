package boottest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

// bootSector is 16-bit code that BIOS runs from the MBR: it writes
// "bakery-test login: " to COM1 (port 0x3f8) and halts.
var bootSector = append([]byte{
	0x31, 0xc0, // xor ax, ax
	0x8e, 0xd8, // mov ds, ax
	0xfc,             // cld
	0xbe, 0x16, 0x7c, // mov si, 0x7c16 (the message)
	0xac,       // next: lodsb
	0x84, 0xc0, // test al, al
	0x74, 0x06, // jz halt
	0xba, 0xf8, 0x03, // mov dx, 0x3f8
	0xee,       // out dx, al
	0xeb, 0xf5, // jmp next
	0xf4,       // halt: hlt
	0xeb, 0xfd, // jmp halt
}, "bakery-test login: \x00"...)

// makeTestDisk builds an 8 MiB qcow2 that boots under both firmwares
// without a kernel: the MBR's code prints a login prompt under BIOS, and
// an EFI system partition holds a GRUB whose embedded configuration
// prints one under UEFI. With bootable false the MBR has no code and no
// partition, so nothing boots.
func makeTestDisk(t *testing.T, dir string, bootable bool) string {
	t.Helper()
	for _, tool := range []string{"qemu-img", "mformat", "mmd", "mcopy", "grub-mkimage", qemu.Binary} {
		if err := runner.Require(tool); err != nil {
			t.Skip(err)
		}
	}
	if _, err := os.Stat("/usr/lib/grub/x86_64-efi"); err != nil {
		t.Skip("needs GRUB's EFI modules: apt-get install grub-efi-amd64-bin")
	}
	raw := filepath.Join(dir, "disk.raw")
	mbr := make([]byte, 512)
	if bootable {
		copy(mbr, bootSector)
		entry := mbr[446:462]
		copy(entry[1:4], []byte{0xfe, 0xff, 0xff})
		entry[4] = 0xef // EFI system partition
		copy(entry[5:8], []byte{0xfe, 0xff, 0xff})
		binary.LittleEndian.PutUint32(entry[8:], 2048)
		binary.LittleEndian.PutUint32(entry[12:], 14336)
		mbr[510], mbr[511] = 0x55, 0xaa
	}
	if err := os.WriteFile(raw, mbr, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(raw, 8<<20); err != nil {
		t.Fatal(err)
	}
	if bootable {
		addESP(t, dir, raw)
	}
	img := filepath.Join(dir, "test-disk.qcow2")
	run(t, "qemu-img", "convert", "-O", "qcow2", raw, img)
	return img
}

// addESP writes a FAT file system holding \EFI\BOOT\BOOTX64.EFI at 1 MiB
// into raw.
func addESP(t *testing.T, dir, raw string) {
	t.Helper()
	fat, cfg, efi := filepath.Join(dir, "esp.img"), filepath.Join(dir, "grub.cfg"), filepath.Join(dir, "BOOTX64.EFI")
	if err := os.WriteFile(cfg, []byte("echo \"bakery-test login:\"\nsleep 3600\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "grub-mkimage", "-O", "x86_64-efi", "-o", efi, "-p", "/EFI/BOOT", "-c", cfg, "normal", "echo", "sleep")
	run(t, "mformat", "-C", "-i", fat, "-T", "14336", "-h", "2", "-s", "16", "::")
	run(t, "mmd", "-i", fat, "::/EFI", "::/EFI/BOOT")
	run(t, "mcopy", "-i", fat, efi, "::/EFI/BOOT/")
	b, err := os.ReadFile(fat)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(raw, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 1<<20); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if _, err := (runner.Exec{}).Run(context.Background(), runner.Cmd{Args: args}); err != nil {
		t.Fatal(err)
	}
}

func sha(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// probeKernel returns a kernel for the accelerator probe, or "".
func probeKernel() string {
	for _, pattern := range []string{"/var/tmp/bakery-dev/tree/boot/vmlinuz-*", "/boot/vmlinuz-*"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return ""
}

func TestIntegrationBootCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	dir := t.TempDir()
	img := makeTestDisk(t, dir, true)
	before := sha(t, img)
	o := Options{Image: img, ProbeKernel: probeKernel(), Timeout: 3 * time.Minute, MemoryMiB: 256,
		WorkDir: filepath.Join(dir, "work"), Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	results, err := BootCheck(context.Background(), runner.Exec{}, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range results {
		t.Logf("%s under %s: passed=%v matched=%q in %s", res.Firmware, res.Accel, res.Passed, res.Matched, res.BootTime)
		if b, err := os.ReadFile(res.ConsoleLog); err != nil || !strings.Contains(string(b), "bakery-test login:") {
			t.Errorf("%s console %s lacks the prompt (%v)", res.Firmware, res.ConsoleLog, err)
		}
	}
	if sha(t, img) != before {
		t.Error("BootCheck modified the image")
	}
	left, _ := filepath.Glob(filepath.Join(o.WorkDir, "*"))
	if len(left) != 2 {
		t.Errorf("work directory holds %q, want only the two console logs", left)
	}
}

func TestIntegrationBootCheckKeepsFailedConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	dir := t.TempDir()
	img := makeTestDisk(t, dir, false)
	keep := filepath.Join(dir, "kept")
	o := Options{Image: img, Accel: qemu.TCG, Firmwares: []qemu.Firmware{qemu.BIOS}, Timeout: 15 * time.Second,
		MemoryMiB: 256, KeepConsole: keep}
	results, err := BootCheck(context.Background(), runner.Exec{}, o)
	if err == nil || len(results) != 1 || results[0].Passed {
		t.Fatalf("BootCheck = %+v, %v; want a failure", results, err)
	}
	t.Logf("failure as reported: %s", results[0].Error)
	b, err := os.ReadFile(filepath.Join(keep, "test-disk-bios-console.log"))
	if err != nil || !strings.Contains(string(b), "SeaBIOS") {
		t.Fatalf("kept console = %q, %v", b, err)
	}
	if !strings.Contains(results[0].Error, "SeaBIOS") {
		t.Errorf("error lacks the console tail: %s", results[0].Error)
	}
}

// TestIntegrationBootCheckImage boots a real image given in
// $BAKERY_TEST_IMAGE (a built golden image) under both firmwares.
func TestIntegrationBootCheckImage(t *testing.T) {
	img := os.Getenv("BAKERY_TEST_IMAGE")
	if testing.Short() || img == "" {
		t.Skip("set BAKERY_TEST_IMAGE to a built image")
	}
	keep := t.TempDir()
	o := Options{Image: img, ProbeKernel: probeKernel(), KeepConsole: keep,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	results, err := BootCheck(context.Background(), runner.Exec{}, o)
	for _, res := range results {
		t.Logf("%s under %s: passed=%v matched=%q in %s", res.Firmware, res.Accel, res.Passed, res.Matched, res.BootTime)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestIntegrationSeedReadByTools(t *testing.T) {
	if testing.Short() {
		t.Skip("runs blkid and xorriso")
	}
	for _, tool := range []string{"blkid", "xorriso"} {
		if err := runner.Require(tool); err != nil {
			t.Skip(err)
		}
	}
	dir := t.TempDir()
	iso := filepath.Join(dir, "seed.iso")
	if err := WriteSeed(iso, testSeed); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	label, err := runner.Exec{}.Run(ctx, runner.Cmd{Args: []string{"blkid", "-p", "-o", "value", "-s", "LABEL", iso}})
	if err != nil || strings.TrimSpace(string(label)) != SeedLabel {
		t.Fatalf("blkid label = %q, %v; want %q", label, err, SeedLabel)
	}
	out := filepath.Join(dir, "out")
	if _, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: []string{"xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", out}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"user-data": testSeed.UserData, "meta-data": testSeed.MetaData, "network-config": testSeed.NetworkConfig} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(got) != string(want) {
			t.Errorf("xorriso extracted %s = %q, %v; want %q", name, got, err, want)
		}
	}
}

// TestIntegrationBootCheckImageSeed boots $BAKERY_TEST_IMAGE with a
// NoCloud seed and checks that cloud-init took its hostname from it.
func TestIntegrationBootCheckImageSeed(t *testing.T) {
	img := os.Getenv("BAKERY_TEST_IMAGE")
	if testing.Short() || img == "" {
		t.Skip("set BAKERY_TEST_IMAGE to a built image")
	}
	work := t.TempDir()
	o := Options{Image: img, ProbeKernel: probeKernel(), Firmwares: []qemu.Firmware{qemu.BIOS}, Seed: &testSeed,
		Patterns: []string{"bakery-test login:"}, WorkDir: work, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	results, err := BootCheck(context.Background(), runner.Exec{}, o)
	if err != nil {
		t.Fatal(err)
	}
	// Only the seed's meta-data names the machine "bakery-test": the
	// prompt proves cloud-init found the ISO by its label and read it.
	t.Logf("booted with the seed's hostname in %s", results[0].BootTime)
}
