package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

// ErrKVMUnusable is wrapped by the errors ProbeKVM returns when KVM cannot
// run a guest here.
var ErrKVMUnusable = errors.New("kvm unusable")

// KVMDevice is the device ProbeKVM opens first.
const KVMDevice = "/dev/kvm"

// ProbeTimeout is how long a probe guest has to boot to its panic.
const ProbeTimeout = 10 * time.Second

// ProbeMarkers are what a probe guest must print, in any order, for the
// accelerator to count as working: the kernel's first console line and the
// panic that ends a boot without a root disk. Requiring the whole boot, not
// only its first line, turns down a KVM that starts guests but runs them
// slower than emulation would (under TCG this takes about 2 s).
var ProbeMarkers = []string{"Linux version", "Kernel panic"}

// ProbeAccel returns KVM when a guest really runs under KVM here and TCG
// otherwise. The error is non-nil only when ctx ended; ProbeKVM says why
// KVM was turned down. Nothing is cached: callers decide.
func ProbeAccel(ctx context.Context, r runner.Runner, kernel string) (Accel, error) {
	err := ProbeKVM(ctx, r, kernel)
	if err == nil {
		return KVM, nil
	}
	if ctx.Err() != nil {
		return TCG, fmt.Errorf("probing accelerator: %w", ctx.Err())
	}
	return TCG, nil
}

// ProbeKVM returns nil when KVMDevice opens read-write and kernel, booted
// with -accel kvm, prints ProbeMarkers on its serial console within
// ProbeTimeout. Otherwise it returns an error wrapping ErrKVMUnusable that
// says why (or the context's error).
func ProbeKVM(ctx context.Context, r runner.Runner, kernel string) error {
	return probeKVM(ctx, r, kernel, KVMDevice, ProbeTimeout)
}

func probeKVM(ctx context.Context, r runner.Runner, kernel, device string, timeout time.Duration) error {
	f, err := os.OpenFile(device, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("probing kvm: %w: %w", ErrKVMUnusable, err)
	}
	f.Close()
	if kernel == "" {
		return fmt.Errorf("probing kvm: %w: no kernel to boot a probe guest", ErrKVMUnusable)
	}
	if err := ProbeGuest(ctx, r, KVM, kernel, timeout); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("probing kvm: %w", ctx.Err())
		}
		return fmt.Errorf("probing kvm: %w: %w", ErrKVMUnusable, err)
	}
	return nil
}

// ProbeArgs returns the QEMU arguments of a probe guest: kernel booted
// directly with its console written to serialLog, told to power off
// (-no-reboot) right after the panic that follows for want of a root disk.
func ProbeArgs(accel Accel, kernel, serialLog string) []string {
	return Args(Options{Accel: accel, MemoryMiB: 256, CPUs: 1, SerialLog: serialLog,
		Kernel: kernel, KernelArgs: "console=ttyS0 panic=-1"})
}

// ProbeGuest boots kernel under accel and returns nil as soon as the guest
// has printed every ProbeMarkers, or an error when it does not within
// timeout.
func ProbeGuest(ctx context.Context, r runner.Runner, accel Accel, kernel string, timeout time.Duration) error {
	dir, err := os.MkdirTemp("", "bakery-probe-")
	if err != nil {
		return fmt.Errorf("booting probe guest: %w", err)
	}
	defer os.RemoveAll(dir)
	log := filepath.Join(dir, "console.log")
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { watchMarkers(log, stop, cancel) })
	_, err = r.Run(ctx, runner.Cmd{Args: append([]string{Binary}, ProbeArgs(accel, kernel, log)...)})
	close(stop)
	wg.Wait()
	if hasMarkers(log) {
		return nil
	}
	if err == nil {
		err = errors.New("exited early")
	}
	return fmt.Errorf("booting probe guest under %s: no %q within %s: %w", accel, ProbeMarkers, timeout, err)
}

// watchMarkers calls found once the console log holds every ProbeMarkers.
func watchMarkers(log string, stop <-chan struct{}, found func()) {
	tick := time.NewTicker(ConsolePoll)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if hasMarkers(log) {
				found()
				return
			}
		}
	}
}

// probeOutputMax bounds how much of a probe console is read; a probe boot
// prints about 20 KiB.
const probeOutputMax = 1 << 20

func hasMarkers(log string) bool {
	f, err := os.Open(log)
	if err != nil {
		return false
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, probeOutputMax))
	for _, m := range ProbeMarkers {
		if !bytes.Contains(b, []byte(m)) {
			return false
		}
	}
	return true
}
