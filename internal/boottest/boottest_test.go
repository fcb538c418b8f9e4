package boottest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

// fakeQEMU writes a stand-in for qemu-system-x86_64 that appends its
// command line to argsFile and behaves as mode says for each firmware:
// "login" prints a login prompt and keeps running, "silent" only runs,
// "crash" prints a panic and exits 1.
func fakeQEMU(t *testing.T, biosMode, uefiMode string) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	bin, argsFile = filepath.Join(dir, "qemu"), filepath.Join(dir, "args")
	script := `#!/bin/sh
echo "$*" >> '` + argsFile + `'
mode=` + biosMode + `
for a in "$@"; do
	case "$a" in
	file,id=serial0,path=*) serial="${a#file,id=serial0,path=}" ;;
	if=pflash*) mode=` + uefiMode + ` ;;
	esac
done
case "$mode" in
login) printf '\033c\033[2JSeaBIOS\r\nDebian GNU/Linux 12 debian ttyS0\r\n\r\ndebian login: ' >> "$serial"; exec sleep 60 ;;
silent) exec sleep 60 ;;
crash) printf 'Kernel panic - not syncing: VFS\r\n' >> "$serial"; echo 'qemu: guest crashed' >&2; exit 1 ;;
esac
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

// imgRunner records commands like runner.Recorder and, like qemu-img,
// creates the file a command names last.
type imgRunner struct {
	runner.Recorder
	fail error
}

func (r *imgRunner) Run(ctx context.Context, c runner.Cmd) ([]byte, error) {
	r.Recorder.Run(ctx, c)
	if r.fail != nil {
		return nil, r.fail
	}
	return nil, os.WriteFile(c.Args[len(c.Args)-1], []byte("overlay"), 0o644)
}

// testOptions returns Options for an image and fake firmware in a fresh
// directory, booting with the given fake QEMU.
func testOptions(t *testing.T, bin string) Options {
	t.Helper()
	dir := t.TempDir()
	o := Options{
		Image:    filepath.Join(dir, "debian-12.qcow2"),
		Accel:    qemu.TCG,
		Timeout:  5 * time.Second,
		WorkDir:  filepath.Join(dir, "work"),
		QEMU:     bin,
		OVMFCode: filepath.Join(dir, "OVMF_CODE_4M.fd"),
		OVMFVars: filepath.Join(dir, "OVMF_VARS_4M.fd"),
	}
	for _, f := range []string{o.Image, o.OVMFCode, o.OVMFVars} {
		if err := os.WriteFile(f, []byte(filepath.Base(f)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func TestBootCheckPasses(t *testing.T) {
	bin, argsFile := fakeQEMU(t, "login", "login")
	o := testOptions(t, bin)
	events := &progress.Recorder{}
	o.Progress = events
	r := &imgRunner{}
	results, err := BootCheck(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	for i, fw := range []qemu.Firmware{qemu.BIOS, qemu.UEFI} {
		res := results[i]
		if res.Firmware != fw || res.Accel != qemu.TCG || !res.Passed || res.Matched != "login:" || res.Error != "" || res.BootTime <= 0 {
			t.Errorf("result %d = %+v", i, res)
		}
		if want := filepath.Join(o.WorkDir, string(fw)+"-console.log"); res.ConsoleLog != want {
			t.Errorf("%s console log = %q, want %q", fw, res.ConsoleLog, want)
		}
	}
	wantImg := []string{
		"qemu-img create -q -f qcow2 -b " + o.Image + " -F qcow2 " + filepath.Join(o.WorkDir, "bios-overlay.qcow2"),
		"qemu-img create -q -f qcow2 -b " + o.Image + " -F qcow2 " + filepath.Join(o.WorkDir, "uefi-overlay.qcow2"),
	}
	if got := r.Argvs(); strings.Join(got, "\n") != strings.Join(wantImg, "\n") {
		t.Errorf("commands:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantImg, "\n"))
	}
	assertQEMUArgs(t, argsFile, o)
	for _, f := range []string{"bios-overlay.qcow2", "uefi-overlay.qcow2", "uefi-OVMF_VARS.fd"} {
		if fileExists(filepath.Join(o.WorkDir, f)) {
			t.Errorf("%s left in the work directory", f)
		}
	}
	if b, _ := os.ReadFile(o.OVMFVars); string(b) != "OVMF_VARS_4M.fd" {
		t.Errorf("variable store template changed: %q", b)
	}
	assertStages(t, events, "boot-bios", "boot-uefi")
}

func assertQEMUArgs(t *testing.T, argsFile string, o Options) {
	t.Helper()
	b, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("QEMU ran %d times, want 2", len(lines))
	}
	w := func(name string) string { return filepath.Join(o.WorkDir, name) }
	want := []string{
		strings.Join(qemu.Args(qemu.Options{Image: w("bios-overlay.qcow2"), Accel: qemu.TCG, MemoryMiB: DefaultMemoryMiB,
			CPUs: DefaultCPUs, SerialLog: w("bios-console.log")}), " "),
		strings.Join(qemu.Args(qemu.Options{Image: w("uefi-overlay.qcow2"), Accel: qemu.TCG, MemoryMiB: DefaultMemoryMiB,
			CPUs: DefaultCPUs, SerialLog: w("uefi-console.log"), Firmware: qemu.UEFI, OVMFCode: o.OVMFCode, OVMFVars: w("uefi-OVMF_VARS.fd")}), " "),
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("QEMU run %d:\n got %s\nwant %s", i, lines[i], want[i])
		}
	}
}

func assertStages(t *testing.T, events *progress.Recorder, stages ...string) {
	t.Helper()
	var got []string
	for _, e := range events.Events {
		if e.Kind == progress.StageDone || e.Kind == progress.StageFail {
			got = append(got, e.Stage)
		}
	}
	if strings.Join(got, ",") != strings.Join(stages, ",") {
		t.Errorf("finished stages %q, want %q", got, stages)
	}
}

func TestBootCheckFailures(t *testing.T) {
	tests := []struct {
		name      string
		uefiMode  string
		wantError string
	}{
		{"timeout", "silent", "timed out"},
		{"crash", "crash", "guest crashed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin, _ := fakeQEMU(t, "login", tt.uefiMode)
			o := testOptions(t, bin)
			o.Timeout = 500 * time.Millisecond
			o.KeepConsole = filepath.Join(t.TempDir(), "kept")
			results, err := BootCheck(context.Background(), &imgRunner{}, o)
			if !errors.Is(err, ErrBootFailed) || !strings.Contains(err.Error(), "uefi: ") || strings.Contains(err.Error(), "bios: ") {
				t.Fatalf("BootCheck error = %v, want ErrBootFailed for uefi only", err)
			}
			if len(results) != 2 || !results[0].Passed || results[1].Passed {
				t.Fatalf("results = %+v", results)
			}
			res := results[1]
			if !strings.Contains(res.Error, tt.wantError) {
				t.Errorf("uefi error = %q, want it to contain %q", res.Error, tt.wantError)
			}
			if want := filepath.Join(o.KeepConsole, "debian-12-uefi-console.log"); res.ConsoleLog != want || !fileExists(want) {
				t.Errorf("console kept at %q, want %q (exists: %v)", res.ConsoleLog, want, fileExists(want))
			}
			if fileExists(filepath.Join(o.KeepConsole, "debian-12-bios-console.log")) {
				t.Error("console of the passing boot was kept too")
			}
		})
	}
}

func TestBootCheckAttachesSeed(t *testing.T) {
	bin, argsFile := fakeQEMU(t, "login", "login")
	o := testOptions(t, bin)
	o.Firmwares = []qemu.Firmware{qemu.BIOS}
	o.Seed = &testSeed
	if _, err := BootCheck(context.Background(), &imgRunner{}, o); err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(o.WorkDir, "seed.iso")
	b, _ := os.ReadFile(argsFile)
	if !strings.Contains(string(b), "-drive file="+seed+",if=virtio,format=raw,readonly=on") {
		t.Errorf("seed not attached: %s", b)
	}
	img, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := readISO(img); err != nil || string(v.joliet["user-data"]) != string(testSeed.UserData) {
		t.Errorf("seed.iso does not hold the seed: %v", err)
	}
}

func TestBootCheckOverlayFails(t *testing.T) {
	bin, argsFile := fakeQEMU(t, "login", "login")
	o := testOptions(t, bin)
	o.Firmwares = []qemu.Firmware{qemu.BIOS}
	results, err := BootCheck(context.Background(), &imgRunner{fail: errors.New("qemu-img: disk full")}, o)
	if !errors.Is(err, ErrBootFailed) || len(results) != 1 || !strings.Contains(results[0].Error, "creating overlay") {
		t.Fatalf("BootCheck = %+v, %v", results, err)
	}
	if fileExists(argsFile) {
		t.Error("QEMU started without an overlay")
	}
}

func TestBootCheckTemporaryWorkDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	bin, _ := fakeQEMU(t, "login", "login")
	o := testOptions(t, bin)
	o.WorkDir = ""
	results, err := BootCheck(context.Background(), &imgRunner{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if results[0].ConsoleLog != "" {
		t.Errorf("console log %q points into a removed directory", results[0].ConsoleLog)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

func TestBootCheckCancelled(t *testing.T) {
	bin, _ := fakeQEMU(t, "silent", "silent")
	o := testOptions(t, bin)
	o.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	results, err := BootCheck(ctx, &imgRunner{}, o)
	if !errors.Is(err, context.Canceled) || len(results) != 1 {
		t.Fatalf("BootCheck = %+v, %v; want one result and context.Canceled", results, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %s", d)
	}
}

func TestBootCheckInvalidOptions(t *testing.T) {
	dir := t.TempDir()
	image := filepath.Join(dir, "i.qcow2")
	if err := os.WriteFile(image, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no image", Options{}, "no image"},
		{"missing image", Options{Image: filepath.Join(dir, "nope.qcow2")}, "no such file"},
		{"bad firmware", Options{Image: image, Firmwares: []qemu.Firmware{"coreboot"}}, `unknown firmware "coreboot"`},
		{"bad accel", Options{Image: image, Accel: "hvf"}, `unknown accelerator "hvf"`},
		{"negative timeout", Options{Image: image, Timeout: -time.Second}, "negative timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &runner.Recorder{}
			_, err := BootCheck(context.Background(), r, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("BootCheck = %v, want error containing %q", err, tt.want)
			}
			if len(r.Cmds) != 0 {
				t.Fatalf("ran %v", r.Argvs())
			}
		})
	}
}

func TestOverlayArgs(t *testing.T) {
	want := "qemu-img create -q -f qcow2 -b /img/a b.qcow2 -F qcow2 /w/bios-overlay.qcow2"
	if got := strings.Join(OverlayArgs("/img/a b.qcow2", "/w/bios-overlay.qcow2"), " "); got != want {
		t.Fatalf("OverlayArgs = %s, want %s", got, want)
	}
}
