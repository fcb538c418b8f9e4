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

// testKernel finds a Debian kernel to boot directly: $BAKERY_TEST_KERNEL,
// the development tree's or the host's.
func testKernel(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	if err := runner.Require(Binary); err != nil {
		t.Skip(err)
	}
	if k := os.Getenv("BAKERY_TEST_KERNEL"); k != "" {
		return k
	}
	for _, pattern := range []string{"/var/tmp/bakery-dev/tree/boot/vmlinuz-*", "/boot/vmlinuz-*"} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	t.Skip("no kernel to boot: set BAKERY_TEST_KERNEL")
	return ""
}

// countProcesses counts processes whose command line contains marker.
func countProcesses(t *testing.T, marker string) int {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cmdlines {
		b, err := os.ReadFile(c)
		if err == nil && strings.Contains(string(b), marker) && strings.Contains(string(b), Binary) {
			n++
		}
	}
	return n
}

func kvmOpens() bool {
	f, err := os.OpenFile(KVMDevice, os.O_RDWR, 0)
	if err == nil {
		f.Close()
	}
	return err == nil
}

func TestIntegrationProbeAccel(t *testing.T) {
	kernel := testKernel(t)
	ctx := context.Background()
	start := time.Now()
	accel, err := ProbeAccel(ctx, runner.Exec{}, kernel)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ProbeAccel = %s in %s (KVM reason: %v)", accel, time.Since(start), ProbeKVM(ctx, runner.Exec{}, kernel))
	if !kvmOpens() && accel != TCG {
		t.Fatalf("ProbeAccel = %s without a usable %s", accel, KVMDevice)
	}

	// The same probe under TCG must see the guest boot: this proves the
	// watch on QEMU's console works, so a KVM verdict above means something.
	start = time.Now()
	if err := ProbeGuest(ctx, runner.Exec{}, TCG, kernel, 60*time.Second); err != nil {
		t.Fatalf("probe guest under tcg: %v", err)
	}
	t.Logf("probe guest under tcg booted to its panic in %s", time.Since(start))
}

// startKernel starts a machine that boots kernel directly and, without
// panic=-1, stays up after the panic.
func startKernel(t *testing.T, ctx context.Context, fw Firmware) (*Machine, string) {
	t.Helper()
	dir := t.TempDir()
	o := Options{Kernel: testKernel(t), KernelArgs: "console=ttyS0", MemoryMiB: 256, Firmware: fw,
		SerialLog: filepath.Join(dir, "console.log")}
	if fw == UEFI {
		code, vars, err := FindOVMF()
		if err != nil {
			t.Skip(err)
		}
		b, err := os.ReadFile(vars)
		if err != nil {
			t.Fatal(err)
		}
		o.OVMFCode, o.OVMFVars = code, filepath.Join(dir, "vars.fd")
		if err := os.WriteFile(o.OVMFVars, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop() })
	return m, dir
}

func TestIntegrationMachineStop(t *testing.T) {
	for _, fw := range []Firmware{BIOS, UEFI} {
		t.Run(string(fw), func(t *testing.T) {
			m, dir := startKernel(t, context.Background(), fw)
			start := time.Now()
			got, err := m.WaitForConsole(context.Background(), []string{"Kernel panic"}, 2*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %q after %s", fw, got, time.Since(start))
			if n := countProcesses(t, dir); n != 1 {
				t.Fatalf("%d QEMU processes for this machine while running, want 1", n)
			}
			if err := m.Stop(); err != nil {
				t.Fatal(err)
			}
			if n := countProcesses(t, dir); n != 0 {
				t.Fatalf("%d QEMU processes left after Stop", n)
			}
			if err := m.Stop(); err != nil {
				t.Fatalf("second Stop: %v", err)
			}
		})
	}
}

func TestIntegrationMachineContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m, dir := startKernel(t, ctx, BIOS)
	if _, err := m.WaitForConsole(context.Background(), []string{"Linux version"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-m.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("QEMU still running 10 s after its context was cancelled")
	}
	if n := countProcesses(t, dir); n != 0 {
		t.Fatalf("%d QEMU processes left after cancel", n)
	}
	if err := m.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

func TestIntegrationMachineExitEndsWait(t *testing.T) {
	dir := t.TempDir()
	o := Options{Kernel: testKernel(t), KernelArgs: "console=ttyS0 panic=-1", MemoryMiB: 256, SerialLog: filepath.Join(dir, "console.log")}
	m, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	_, err = m.WaitForConsole(context.Background(), []string{"login:"}, 2*time.Minute)
	if !errors.Is(err, ErrMachineExited) || !strings.Contains(err.Error(), "Kernel panic") {
		t.Fatalf("WaitForConsole = %v, want ErrMachineExited with the panic in the console tail", err)
	}
}

func TestIntegrationMachineStartFails(t *testing.T) {
	dir := t.TempDir()
	o := Options{Image: filepath.Join(dir, "missing.qcow2"), SerialLog: filepath.Join(dir, "console.log")}
	if err := runner.Require(Binary); err != nil || testing.Short() {
		t.Skip("needs QEMU")
	}
	m, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.WaitForConsole(context.Background(), []string{"login:"}, time.Minute)
	var re *runner.Error
	if !errors.Is(err, ErrMachineExited) || !errors.As(err, &re) || !strings.Contains(re.Stderr, "missing.qcow2") {
		t.Fatalf("WaitForConsole = %v, want ErrMachineExited with QEMU's complaint", err)
	}
}
