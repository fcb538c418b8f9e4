package boottest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

// ErrQAFailed is wrapped by Test's error when the image was tested and a
// check failed; the report says which.
var ErrQAFailed = errors.New("image failed its boot test")

// Defaults of QAOptions.
const (
	DefaultGrowBy       = 2 << 30 // bytes added to the disk: the root must grow into them
	DefaultCheckTimeout = 3 * time.Minute
)

// QAOptions configure Test.
type QAOptions struct {
	Image       string          // qcow2 to test; never modified
	Firmwares   []qemu.Firmware // default bios, uefi (a hybrid image boots both)
	Accel       qemu.Accel      // "" = probe: KVM only if a probe guest runs, else TCG
	ProbeKernel string          // kernel booted to probe KVM; none: TCG
	// Timeout bounds each boot until SSH answers; default DefaultTimeout.
	Timeout time.Duration
	// CheckTimeout bounds each command run on the machine (waiting for
	// systemd and cloud-init, a recipe test); default DefaultCheckTimeout.
	CheckTimeout time.Duration
	GrowBy       int64 // bytes the machine's disk has beyond the image's; default DefaultGrowBy
	MemoryMiB    int   // default DefaultMemoryMiB
	CPUs         int   // default DefaultCPUs
	// Release is what /etc/bakery/release must say (a catalog image); nil
	// skips the comparison.
	Release *Release
	Tests   []Script // the recipe's tests, run on every boot
	// UserData is deploy-time user-data, a #cloud-config document merged
	// into the seed's own (MergeUserData: the test's identity wins), e.g.
	// write_files with parameters for a first-boot puppet apply. Nil: none.
	UserData []byte
	// Identity is the hostname, user and key the seed gives the machines;
	// default: NewIdentity(), fresh for every Test.
	Identity *Identity
	// SkipOffline leaves out the offline hygiene checks.
	SkipOffline bool
	// WorkDir holds the overlays, seed, firmware variables and the
	// extracted tree while testing; it is emptied of them before Test
	// returns. Default: a temporary directory, removed.
	WorkDir string
	// ConsoleDir receives each boot's serial console as console-FW.log and
	// is the caller's to keep; default: WorkDir (so removed with it).
	ConsoleDir         string
	QEMU               string // default qemu.Binary
	OVMFCode, OVMFVars string // default qemu.FindOVMF()
	Logger             *slog.Logger
	Progress           progress.Sink
}

// Check is the result of one check.
type Check struct {
	Name     string        `json:"name"`
	Firmware qemu.Firmware `json:"firmware,omitempty"` // "" for offline and cross-boot checks
	Passed   bool          `json:"passed"`
	Skipped  bool          `json:"skipped,omitempty"` // could not run here; not a failure
	Duration time.Duration `json:"duration_ns"`
	Evidence string        `json:"evidence"`
	Output   string        `json:"output,omitempty"` // a recipe test's output
}

// Failed reports a check that neither passed nor was skipped.
func (c Check) Failed() bool { return !c.Passed && !c.Skipped }

// Boot is one boot of a test.
type Boot struct {
	Firmware   qemu.Firmware `json:"firmware"`
	Accel      qemu.Accel    `json:"accel"`
	Passed     bool          `json:"passed"`         // SSH answered
	BootToSSH  time.Duration `json:"boot_to_ssh_ns"` // from QEMU's start to the first SSH login
	HostKey    string        `json:"host_key,omitempty"`
	MachineID  string        `json:"machine_id,omitempty"`
	ConsoleLog string        `json:"console_log,omitempty"`
	Error      string        `json:"error,omitempty"`
}

// Report is the outcome of Test.
type Report struct {
	Image    string        `json:"image"`
	Accel    qemu.Accel    `json:"accel"`
	Passed   bool          `json:"passed"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	DiskSize int64         `json:"disk_size"` // bytes of the disk each machine was given
	Boots    []Boot        `json:"boots"`
	Checks   []Check       `json:"checks"`
}

// Failed returns the checks that failed.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Failed() {
			out = append(out, c)
		}
	}
	return out
}

// BootToSSH is the slowest boot's time to SSH (0 when none answered).
func (r Report) BootToSSH() time.Duration {
	var d time.Duration
	for _, b := range r.Boots {
		if b.Passed {
			d = max(d, b.BootToSSH)
		}
	}
	return d
}

func (o QAOptions) withDefaults() QAOptions {
	if len(o.Firmwares) == 0 {
		o.Firmwares = []qemu.Firmware{qemu.BIOS, qemu.UEFI}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CheckTimeout == 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.GrowBy == 0 {
		o.GrowBy = DefaultGrowBy
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = DefaultMemoryMiB
	}
	if o.CPUs == 0 {
		o.CPUs = DefaultCPUs
	}
	if o.QEMU == "" {
		o.QEMU = qemu.Binary
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = progress.Discard
	}
	return o
}

// Validate reports options Test cannot work with.
func (o QAOptions) Validate() error {
	bo := Options{Image: o.Image, Firmwares: o.Firmwares, Accel: o.Accel, Timeout: o.Timeout}
	if err := bo.Validate(); err != nil {
		return err
	}
	if o.CheckTimeout < 0 || o.GrowBy < 0 {
		return fmt.Errorf("negative check timeout or disk growth")
	}
	for _, s := range o.Tests {
		if s.Name == "" {
			return fmt.Errorf("a recipe test has no name")
		}
	}
	if o.UserData != nil {
		if _, err := ParseCloudConfig(o.UserData); err != nil {
			return err
		}
	}
	return nil
}

// Test boots o.Image under each firmware with a fresh NoCloud seed, waits
// for SSH and runs the checks on the machine, after the offline hygiene
// checks of the image's tree. The error wraps ErrQAFailed when a check
// failed (the report says which), or says why testing could not go on
// (options, missing tools, a cancelled ctx): then the report holds what
// was done. Nothing Test starts or creates outlives it but ConsoleDir's
// logs.
func Test(ctx context.Context, r runner.Runner, o QAOptions) (Report, error) {
	o = o.withDefaults()
	rep := Report{Image: o.Image, Started: time.Now()}
	if err := o.Validate(); err != nil {
		return rep, fmt.Errorf("testing %s: %w", o.Image, err)
	}
	q := &qaRun{o: o, r: r, report: &rep}
	err := q.run(ctx)
	rep.Duration = time.Since(rep.Started)
	rep.Passed = err == nil && len(rep.Failed()) == 0 && len(rep.Checks) > 0
	if err != nil {
		return rep, fmt.Errorf("testing %s: %w", o.Image, err)
	}
	if !rep.Passed {
		return rep, fmt.Errorf("testing %s: %w: %s", o.Image, ErrQAFailed, failedNames(rep.Failed()))
	}
	return rep, nil
}

func failedNames(checks []Check) string {
	s := ""
	for i, c := range checks {
		if i > 0 {
			s += ", "
		}
		s += c.Name
		if c.Firmware != "" {
			s += " (" + string(c.Firmware) + ")"
		}
	}
	return s
}

// qaRun is one Test.
type qaRun struct {
	o         QAOptions
	r         runner.Runner
	report    *Report
	id        Identity
	seedISO   string
	imageSize int64
}

func (q *qaRun) run(ctx context.Context) error {
	if _, real := q.r.(runner.Exec); real {
		if err := runner.Require(q.tools()...); err != nil {
			return err
		}
	}
	cleanup, err := q.prepareWorkDir()
	if err != nil {
		return err
	}
	defer cleanup()
	if err := q.prepare(ctx); err != nil {
		return err
	}
	if !q.o.SkipOffline {
		done := progress.Stage(q.o.Progress, "hygiene")
		q.report.Checks = append(q.report.Checks, offlineChecks(ctx, q.r, q.o.Image, filepath.Join(q.o.WorkDir, "offline"), q.keepProbeKernel)...)
		done(nil)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	accel, err := chooseAccel(ctx, q.r, Options{Accel: q.o.Accel, ProbeKernel: q.probeKernel(), Logger: q.o.Logger, Progress: q.o.Progress})
	if q.report.Accel = accel; err != nil {
		return err
	}
	for _, fw := range q.o.Firmwares {
		q.bootOnce(ctx, fw)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	q.report.Checks = append(q.report.Checks, crossBootChecks(q.report.Boots)...)
	return nil
}

// tools are the host programs the test runs.
func (q *qaRun) tools() []string {
	tools := []string{"qemu-img", q.o.QEMU}
	if !q.o.SkipOffline {
		tools = append(tools, "debugfs")
	}
	return tools
}

// prepareWorkDir makes the work directory (a temporary one by default)
// and returns what removes everything Test put there.
func (q *qaRun) prepareWorkDir() (func(), error) {
	if q.o.WorkDir == "" {
		dir, err := os.MkdirTemp("", "bakery-test-")
		if err != nil {
			return nil, err
		}
		q.o.WorkDir = dir
		if q.o.ConsoleDir == "" {
			q.o.ConsoleDir = dir
		}
		return func() { os.RemoveAll(dir) }, nil
	}
	dir, err := os.MkdirTemp(q.o.WorkDir, "test-")
	if err != nil {
		return nil, err
	}
	q.o.WorkDir = dir
	if q.o.ConsoleDir == "" {
		q.o.ConsoleDir = dir
	}
	return func() { os.RemoveAll(dir) }, nil
}

// prepare sizes the disk and makes the identity and its seed.
func (q *qaRun) prepare(ctx context.Context) error {
	if _, err := os.Stat(q.o.Image); err != nil {
		return err
	}
	if err := os.MkdirAll(q.o.ConsoleDir, 0o755); err != nil {
		return err
	}
	size, err := VirtualSize(ctx, q.r, q.o.Image)
	if err != nil {
		return err
	}
	q.imageSize, q.report.DiskSize = size, size+q.o.GrowBy
	if q.o.Identity != nil {
		q.id = *q.o.Identity
	} else if q.id, err = NewIdentity(); err != nil {
		return err
	}
	seed, dropped, err := q.id.SeedWith(q.o.UserData)
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		q.o.Logger.Warn("user-data keys left out: the boot test sets them", "keys", dropped)
	}
	q.seedISO = filepath.Join(q.o.WorkDir, "seed.iso")
	return WriteSeed(q.seedISO, seed)
}

// keepProbeKernel copies the image's own kernel out of its extracted tree
// to probe KVM with, when the accelerator is to be probed and no kernel
// was given.
func (q *qaRun) keepProbeKernel(tree string) {
	if q.o.Accel != "" || q.o.ProbeKernel != "" {
		return
	}
	if k := newestKernel(tree); k != "" {
		dst := filepath.Join(q.o.WorkDir, "probe-vmlinuz")
		if err := copyFile(k, dst); err == nil {
			q.o.ProbeKernel = dst
		}
	}
}

// probeKernel is the kernel to probe KVM with: the given one, the image's,
// or the host's newest.
func (q *qaRun) probeKernel() string {
	if q.o.ProbeKernel != "" {
		return q.o.ProbeKernel
	}
	m, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}
