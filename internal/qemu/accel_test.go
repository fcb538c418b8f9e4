package qemu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

// fakeQEMU is a runner.Runner that plays a QEMU process: it writes output
// to the serial log named on its command line, then either exits with exitErr or, when hang is
// set, runs until its context ends.
type fakeQEMU struct {
	output  []string
	hang    bool
	exitErr error
	argv    []string
}

func (f *fakeQEMU) Run(ctx context.Context, c runner.Cmd) ([]byte, error) {
	f.argv = c.Args
	for _, o := range f.output {
		if err := appendFile(serialLogArg(c.Args), o); err != nil {
			return nil, err
		}
	}
	if f.hang {
		<-ctx.Done()
		return nil, &runner.Error{Cmd: c.String(), ExitCode: -1, Err: ctx.Err()}
	}
	return nil, f.exitErr
}

// serialLogArg returns the serial log path from a QEMU command line.
func serialLogArg(args []string) string {
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "file,id=serial0,path="); ok {
			return p
		}
	}
	return ""
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(s)
	return err
}

var probeBoot = []string{
	"SeaBIOS\r\n[    0.000000] Linux ver", "sion 6.1.0-57-cloud-amd64\r\n",
	"[    1.5] Kernel panic - not syncing: VFS: Unable to mount root fs\r\n",
}

func TestProbeKVM(t *testing.T) {
	dir := t.TempDir()
	kvm := filepath.Join(dir, "kvm")
	if err := os.WriteFile(kvm, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		device  string
		kernel  string
		qemu    *fakeQEMU
		wantErr string // empty: KVM works
	}{
		{"guest boots and keeps running", kvm, "/k", &fakeQEMU{output: probeBoot, hang: true}, ""},
		{"guest boots and powers off", kvm, "/k", &fakeQEMU{output: probeBoot}, ""},
		{"no device", filepath.Join(dir, "missing"), "/k", &fakeQEMU{output: probeBoot}, "no such file"},
		{"no kernel", kvm, "", &fakeQEMU{output: probeBoot}, "no kernel"},
		{"qemu refuses kvm", kvm, "/k", &fakeQEMU{exitErr: errors.New("Could not access KVM kernel module")}, "Could not access KVM"},
		{"guest too slow", kvm, "/k", &fakeQEMU{output: probeBoot[:2], hang: true}, "deadline exceeded"},
		{"silent guest", kvm, "/k", &fakeQEMU{}, "exited early"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := probeKVM(context.Background(), tt.qemu, tt.kernel, tt.device, 300*time.Millisecond)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("probeKVM = %v", err)
				}
				if got := strings.Join(tt.qemu.argv, " "); !strings.Contains(got, "accel=kvm") || !strings.HasSuffix(got, "-kernel /k -append console=ttyS0 panic=-1") {
					t.Fatalf("probe argv = %s", got)
				}
				return
			}
			if !errors.Is(err, ErrKVMUnusable) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("probeKVM = %v, want ErrKVMUnusable containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestProbeAccel(t *testing.T) {
	// KVMDevice is not a temp file here, so KVM counts only where the host
	// really has it; either way a failing probe must give TCG without error.
	accel, err := ProbeAccel(context.Background(), &fakeQEMU{exitErr: errors.New("no kvm")}, "/k")
	if err != nil || accel != TCG {
		t.Fatalf("ProbeAccel = %s, %v; want tcg", accel, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ProbeAccel(ctx, &fakeQEMU{hang: true}, "/k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("ProbeAccel with cancelled context = %v", err)
	}
}

func TestProbeArgs(t *testing.T) {
	want := "-machine q35,accel=tcg -cpu max -m 256 -smp 1 -nographic -nodefaults -no-reboot " +
		"-chardev file,id=serial0,path=/tmp/c.log -serial chardev:serial0 " +
		"-netdev user,id=net0 -device virtio-net-pci,netdev=net0 -device virtio-rng-pci " +
		"-kernel /boot/vmlinuz -append console=ttyS0 panic=-1"
	if got := strings.Join(ProbeArgs(TCG, "/boot/vmlinuz", "/tmp/c.log"), " "); got != want {
		t.Fatalf("ProbeArgs:\n got %s\nwant %s", got, want)
	}
}
