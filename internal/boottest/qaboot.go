package boottest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

// GrownOverlayArgs returns the qemu-img command line that creates overlay
// over image with a virtual size of size bytes: a bigger disk than the
// image's, for the root file system to grow into.
func GrownOverlayArgs(image, overlay string, size int64) []string {
	return append(OverlayArgs(image, overlay), strconv.FormatInt(size, 10))
}

// VirtualSize returns the size in bytes of the disk a qcow2 image holds.
func VirtualSize(ctx context.Context, r runner.Runner, image string) (int64, error) {
	out, err := r.Run(ctx, runner.Cmd{Args: []string{"qemu-img", "info", "--output=json", image}})
	if err != nil {
		return 0, fmt.Errorf("reading size of %s: %w", image, err)
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.VirtualSize <= 0 {
		return 0, fmt.Errorf("reading size of %s: bad qemu-img info output (%v): %.200s", image, err, out)
	}
	return info.VirtualSize, nil
}

// portAttempts is how often a boot retries when QEMU cannot forward the
// SSH port it was given (another program took it meanwhile).
const portAttempts = 3

// bootOnce boots the image under fw, waits for SSH and runs the guest
// checks; it appends the boot and its checks to the report.
func (q *qaRun) bootOnce(ctx context.Context, fw qemu.Firmware) {
	done := progress.Stage(q.o.Progress, "boot-"+string(fw))
	b := Boot{Firmware: fw, Accel: q.report.Accel, ConsoleLog: filepath.Join(q.o.ConsoleDir, "console-"+string(fw)+".log")}
	checks, err := q.bootAndCheck(ctx, &b)
	if err != nil {
		b.Error = err.Error()
		checks = append([]Check{{Name: CheckBoot, Firmware: fw, Duration: b.BootToSSH, Evidence: err.Error()}}, checks...)
		q.o.Logger.Warn("boot failed", "image", q.o.Image, "firmware", fw, "err", err)
	}
	q.report.Boots = append(q.report.Boots, b)
	q.report.Checks = append(q.report.Checks, checks...)
	done(err)
}

// bootAndCheck returns the checks of one boot, or why the machine never
// answered on SSH.
func (q *qaRun) bootAndCheck(ctx context.Context, b *Boot) ([]Check, error) {
	overlay := filepath.Join(q.o.WorkDir, string(b.Firmware)+"-overlay.qcow2")
	if _, err := q.r.Run(ctx, runner.Cmd{Args: GrownOverlayArgs(q.o.Image, overlay, q.report.DiskSize)}); err != nil {
		return nil, fmt.Errorf("creating overlay: %w", err)
	}
	defer os.Remove(overlay)
	qo, cleanup, err := q.machineOptions(b, overlay)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	m, g, err := q.startAndWait(ctx, b, qo)
	if m != nil {
		defer m.Stop()
	}
	if err != nil {
		return nil, err
	}
	defer g.Close()
	b.Passed, b.HostKey = true, g.HostKeyFingerprint()
	checks := []Check{{Name: CheckBoot, Firmware: b.Firmware, Passed: true, Duration: b.BootToSSH,
		Evidence: fmt.Sprintf("SSH answered %.1fs after QEMU started (%s, %s)", b.BootToSSH.Seconds(), b.Firmware, b.Accel)}}
	st := &bootState{id: q.id, hostKey: b.HostKey, diskSize: q.report.DiskSize, imageSize: q.imageSize,
		release: q.o.Release, timeout: q.o.CheckTimeout}
	checks = append(checks, q.guestChecks(ctx, g, st, b.Firmware)...)
	b.MachineID = st.machineID
	return checks, nil
}

// machineOptions describes the machine; cleanup removes its firmware
// variables.
func (q *qaRun) machineOptions(b *Boot, overlay string) (qemu.Options, func(), error) {
	qo := qemu.Options{Binary: q.o.QEMU, Image: overlay, Firmware: b.Firmware, Accel: b.Accel,
		MemoryMiB: q.o.MemoryMiB, CPUs: q.o.CPUs, SerialLog: b.ConsoleLog, ExtraDrives: []string{q.seedISO}}
	if b.Firmware != qemu.UEFI {
		return qo, func() {}, nil
	}
	code, vars, err := copyFirmware(q.o.OVMFCode, q.o.OVMFVars, filepath.Join(q.o.WorkDir, "uefi-OVMF_VARS.fd"))
	if err != nil {
		return qo, func() {}, err
	}
	qo.OVMFCode, qo.OVMFVars = code, vars
	return qo, func() { os.Remove(vars) }, nil
}

// startAndWait starts the machine and logs in over SSH, retrying with
// another port when QEMU could not forward the one it was given.
func (q *qaRun) startAndWait(ctx context.Context, b *Boot, qo qemu.Options) (*qemu.Machine, *sshGuest, error) {
	for attempt := 1; ; attempt++ {
		port, err := qemu.FreePort()
		if err != nil {
			return nil, nil, err
		}
		qo.SSHForwardPort = port
		m, g, err := q.waitForSSH(ctx, b, qo)
		if err == nil || attempt == portAttempts || !portTaken(m) {
			return m, g, err
		}
		m.Stop()
	}
}

func portTaken(m *qemu.Machine) bool {
	if m == nil {
		return false
	}
	select {
	case <-m.Done():
		return strings.Contains(fmt.Sprint(m.Wait()), qemu.PortTakenMessage)
	default:
		return false
	}
}

// errSSHTimeout is wrapped by the error of a boot that did not answer on
// SSH in time.
var errSSHTimeout = errors.New("no SSH login")

// waitForSSH starts the machine and waits until a login over SSH works,
// the machine dies, its console shows a failed boot or the timeout ends.
func (q *qaRun) waitForSSH(ctx context.Context, b *Boot, qo qemu.Options) (*qemu.Machine, *sshGuest, error) {
	vmCtx, cancel := context.WithTimeout(ctx, q.o.Timeout)
	defer cancel()
	m, err := qemu.Start(ctx, qo) // lives on after the wait: the checks need it
	if err != nil {
		return nil, nil, err
	}
	abort := func() error { return machineTrouble(m, b.ConsoleLog) }
	g, err := waitSSH(vmCtx, "127.0.0.1:"+strconv.Itoa(qo.SSHForwardPort), q.id, abort)
	b.BootToSSH = time.Since(m.Started())
	if err == nil {
		return m, g, nil
	}
	if ctx.Err() == nil && vmCtx.Err() != nil {
		err = fmt.Errorf("%w within %s: %w", errSSHTimeout, q.o.Timeout, err)
	}
	return m, nil, withConsole(err, b.ConsoleLog)
}

// machineTrouble says why waiting for the machine is pointless: it exited,
// or its console shows a boot that cannot go on.
func machineTrouble(m *qemu.Machine, console string) error {
	select {
	case <-m.Done():
		return fmt.Errorf("%w: %v", qemu.ErrMachineExited, m.Wait())
	default:
	}
	if line := qemu.ConsoleBootFailure(console); line != "" {
		return fmt.Errorf("boot failed: console shows %q", line)
	}
	return nil
}

// consoleTailLines is how many console lines a failed boot's error shows.
const consoleTailLines = 15

func withConsole(err error, console string) error {
	tail := qemu.ConsoleTail(console, consoleTailLines)
	if tail == "" {
		return fmt.Errorf("%w (the console is empty)", err)
	}
	return fmt.Errorf("%w\n--- last %d lines of the console ---\n%s", err, consoleTailLines, tail)
}

// guestChecks runs the checks and the recipe tests on the machine.
func (q *qaRun) guestChecks(ctx context.Context, g guest, st *bootState, fw qemu.Firmware) []Check {
	var checks []Check
	for _, gc := range guestChecks {
		checks = append(checks, timed(gc.name, fw, func() verdict { return gc.run(ctx, g, st) }))
	}
	for i, s := range q.o.Tests {
		checks = append(checks, timed(recipeTestName(s), fw, func() verdict {
			return runRecipeTest(ctx, g, st, string(fw), i, s)
		}))
	}
	for _, c := range checks {
		q.o.Logger.Info("check", "name", c.Name, "firmware", fw, "passed", c.Passed, "evidence", c.Evidence)
	}
	return checks
}

func timed(name string, fw qemu.Firmware, fn func() verdict) Check {
	start := time.Now()
	v := fn()
	return Check{Name: name, Firmware: fw, Passed: v.passed, Skipped: v.skipped,
		Duration: time.Since(start), Evidence: clip(v.evidence), Output: v.output}
}

// maxEvidence bounds a check's evidence.
const maxEvidence = 2000

func clip(s string) string {
	if len(s) <= maxEvidence {
		return s
	}
	return s[:maxEvidence] + " …"
}
