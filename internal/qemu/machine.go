package qemu

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

// Machine is a running QEMU process.
type Machine struct {
	opts    Options
	proc    *runner.Process
	started time.Time
}

// Start validates o, creates (or empties) the serial log and starts QEMU in
// its own process group. The machine lives until Stop is called, it exits
// on its own (power-off, reboot: -no-reboot) or ctx ends, whichever comes
// first; nothing it started outlives it.
func Start(ctx context.Context, o Options) (*Machine, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("starting machine: %w", err)
	}
	o = o.withDefaults()
	if o.SerialLog != "" {
		if err := os.WriteFile(o.SerialLog, nil, 0o644); err != nil {
			return nil, fmt.Errorf("starting machine: creating serial log: %w", err)
		}
	}
	proc, err := runner.Start(ctx, runner.Cmd{Args: append([]string{o.Binary}, Args(o)...)})
	if err != nil {
		return nil, fmt.Errorf("starting machine: %w", err)
	}
	return &Machine{opts: o, proc: proc, started: time.Now()}, nil
}

// Options returns the options the machine runs with, defaults applied.
func (m *Machine) Options() Options { return m.opts }

// Pid is QEMU's process ID.
func (m *Machine) Pid() int { return m.proc.Pid() }

// Started is when QEMU was started.
func (m *Machine) Started() time.Time { return m.started }

// Done is closed when QEMU has exited.
func (m *Machine) Done() <-chan struct{} { return m.proc.Done() }

// Wait waits for QEMU to exit on its own and returns its *runner.Error when
// it failed (the error's Stderr says why: a missing firmware, no KVM).
func (m *Machine) Wait() error { return m.proc.Wait() }

// Stop kills QEMU and waits until it is gone. Stopping a machine that
// already exited is not an error.
func (m *Machine) Stop() error {
	if err := m.proc.Kill(); err != nil {
		return fmt.Errorf("stopping machine %d: %w", m.Pid(), err)
	}
	return nil
}

// WaitForConsole is WaitForConsole on the machine's serial log that also
// gives up, with an error wrapping ErrMachineExited and QEMU's own error,
// as soon as QEMU exits.
func (m *Machine) WaitForConsole(ctx context.Context, patterns []string, timeout time.Duration) (string, error) {
	if m.opts.SerialLog == "" {
		return "", fmt.Errorf("waiting for console of machine %d: no serial log", m.Pid())
	}
	return waitConsole(ctx, m.opts.SerialLog, patterns, timeout, m.exited)
}

func (m *Machine) exited() (bool, error) {
	select {
	case <-m.proc.Done():
		return true, m.proc.Wait()
	default:
		return false, nil
	}
}
