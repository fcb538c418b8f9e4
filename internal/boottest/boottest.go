// Package boottest boots images under QEMU and checks that they come up:
// once per firmware, on a throw-away overlay so that the image itself is
// never written to.
package boottest

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
	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

// DefaultPatterns are the console lines that count as "booted": a getty's
// login prompt on the serial console, or cloud-init's final message
// ("Cloud-init v. 22.4.2 finished at ...").
var DefaultPatterns = []string{"login:", "finished at"}

// Defaults applied to zero Options fields.
const (
	DefaultTimeout   = 5 * time.Minute
	DefaultMemoryMiB = 1024
	DefaultCPUs      = 2
)

// ErrBootFailed is wrapped by BootCheck's error when an image did not boot
// under some firmware; the results say which and why.
var ErrBootFailed = errors.New("image did not boot")

// Options configure BootCheck.
type Options struct {
	Image     string          // qcow2 to boot; never modified
	Firmwares []qemu.Firmware // default bios, uefi
	Accel     qemu.Accel      // "" = probe (KVM only if a probe guest runs, else TCG)
	// ProbeKernel is the kernel booted to probe KVM when Accel is "".
	// Without one, KVM cannot be proven to work and TCG is used.
	ProbeKernel string
	// Seed, when set, is written as a NoCloud ISO and attached to every
	// boot as a read-only disk. Without one cloud-init falls back to its
	// None data source.
	Seed      *Seed
	Timeout   time.Duration // per boot; default DefaultTimeout
	Patterns  []string      // default DefaultPatterns
	MemoryMiB int           // default DefaultMemoryMiB
	CPUs      int           // default DefaultCPUs
	// WorkDir holds overlays, firmware variables and console logs while
	// booting; consoles stay there. Default: a temporary directory, removed.
	WorkDir     string
	KeepConsole string // directory the console log of a failed boot is copied to; "" = none
	QEMU        string // QEMU program; default qemu.Binary
	// OVMFCode and OVMFVars are the UEFI firmware and its variable store
	// template (copied per boot); default qemu.FindOVMF().
	OVMFCode, OVMFVars string
	Logger             *slog.Logger  // default: discard
	Progress           progress.Sink // default: progress.Discard
}

// BootResult is the outcome of booting the image under one firmware.
type BootResult struct {
	Firmware   qemu.Firmware `json:"firmware"`
	Accel      qemu.Accel    `json:"accel"`
	Passed     bool          `json:"passed"`
	Matched    string        `json:"matched,omitempty"`     // the pattern that appeared
	BootTime   time.Duration `json:"boot_time_ns"`          // from QEMU's start to the match (or failure)
	ConsoleLog string        `json:"console_log,omitempty"` // kept console: in KeepConsole on failure, else in WorkDir when given
	Error      string        `json:"error,omitempty"`
}

func (o Options) withDefaults() Options {
	if len(o.Firmwares) == 0 {
		o.Firmwares = []qemu.Firmware{qemu.BIOS, qemu.UEFI}
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if len(o.Patterns) == 0 {
		o.Patterns = DefaultPatterns
	}
	if o.MemoryMiB == 0 {
		o.MemoryMiB = DefaultMemoryMiB
	}
	if o.CPUs == 0 {
		o.CPUs = DefaultCPUs
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = progress.Discard
	}
	return o
}

// Validate reports options BootCheck cannot work with.
func (o Options) Validate() error {
	if o.Image == "" {
		return errors.New("no image to boot")
	}
	if o.Timeout < 0 {
		return fmt.Errorf("negative timeout %s", o.Timeout)
	}
	if o.Accel != "" && o.Accel != qemu.KVM && o.Accel != qemu.TCG {
		return fmt.Errorf("unknown accelerator %q", o.Accel)
	}
	for _, fw := range o.Firmwares {
		if fw != qemu.BIOS && fw != qemu.UEFI {
			return fmt.Errorf("unknown firmware %q", fw)
		}
	}
	return nil
}

// BootCheck boots o.Image once per firmware and waits for a pattern on the
// serial console. It returns one result per firmware that it got to; the
// error wraps ErrBootFailed when any boot failed, or says why checking
// could not go on (options, a cancelled ctx).
func BootCheck(ctx context.Context, r runner.Runner, o Options) ([]BootResult, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("boot-testing %s: %w", o.Image, err)
	}
	if _, err := os.Stat(o.Image); err != nil {
		return nil, fmt.Errorf("boot-testing %s: %w", o.Image, err)
	}
	c := &checker{o: o, r: r, tempWorkDir: o.WorkDir == ""}
	cleanup, err := c.prepareWorkDir()
	if err != nil {
		return nil, fmt.Errorf("boot-testing %s: %w", o.Image, err)
	}
	defer cleanup()
	if err := c.writeSeed(); err != nil {
		return nil, fmt.Errorf("boot-testing %s: %w", o.Image, err)
	}
	if c.accel, err = chooseAccel(ctx, r, o); err != nil {
		return nil, fmt.Errorf("boot-testing %s: %w", o.Image, err)
	}
	var results []BootResult
	for _, fw := range o.Firmwares {
		results = append(results, c.bootOnce(ctx, fw))
		if ctx.Err() != nil {
			return results, fmt.Errorf("boot-testing %s: %w", o.Image, ctx.Err())
		}
	}
	return results, failure(o.Image, results)
}

// checker is one BootCheck run.
type checker struct {
	o           Options // defaults applied
	r           runner.Runner
	accel       qemu.Accel
	tempWorkDir bool   // o.WorkDir is ours: removed at the end
	seedISO     string // the NoCloud seed attached to every boot, if any
}

// writeSeed writes o.Seed, if any, into the work directory.
func (c *checker) writeSeed() error {
	if c.o.Seed == nil {
		return nil
	}
	c.seedISO = filepath.Join(c.o.WorkDir, "seed.iso")
	return WriteSeed(c.seedISO, *c.o.Seed)
}

// prepareWorkDir creates the work directory, or a temporary one that the
// returned function removes.
func (c *checker) prepareWorkDir() (func(), error) {
	if !c.tempWorkDir {
		return func() {}, os.MkdirAll(c.o.WorkDir, 0o755)
	}
	dir, err := os.MkdirTemp("", "bakery-boottest-")
	if err != nil {
		return nil, err
	}
	c.o.WorkDir = dir
	return func() { os.RemoveAll(dir) }, nil
}

func chooseAccel(ctx context.Context, r runner.Runner, o Options) (qemu.Accel, error) {
	if o.Accel != "" {
		return o.Accel, nil
	}
	err := qemu.ProbeKVM(ctx, r, o.ProbeKernel)
	if err == nil {
		o.Logger.Info("accelerator probed", "accel", qemu.KVM)
		return qemu.KVM, nil
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	o.Logger.Info("accelerator probed", "accel", qemu.TCG, "kvm", err)
	o.Progress.Emit(progress.Event{Time: time.Now(), Kind: progress.Info, Message: "KVM unusable, emulating with TCG (slow)"})
	return qemu.TCG, nil
}

func failure(image string, results []BootResult) error {
	var failed []string
	for _, res := range results {
		if !res.Passed {
			first, _, _ := strings.Cut(res.Error, "\n")
			failed = append(failed, fmt.Sprintf("%s: %s", res.Firmware, first))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("boot-testing %s: %w under %s", image, ErrBootFailed, strings.Join(failed, "; "))
}

// bootOnce boots the image under one firmware and reports how it went.
func (c *checker) bootOnce(ctx context.Context, fw qemu.Firmware) BootResult {
	o := c.o
	res := BootResult{Firmware: fw, Accel: c.accel}
	done := progress.Stage(o.Progress, "boot-"+string(fw))
	b := &boot{checker: c, fw: fw}
	matched, elapsed, err := b.run(ctx)
	res.Matched, res.BootTime = matched, elapsed
	if err != nil {
		res.Error = err.Error()
		res.ConsoleLog = b.keepConsole()
		o.Logger.Warn("boot test failed", "image", o.Image, "firmware", fw, "accel", c.accel, "console", res.ConsoleLog, "err", err)
	} else {
		res.Passed = true
		o.Logger.Info("boot test passed", "image", o.Image, "firmware", fw, "accel", c.accel,
			"matched", matched, "boot_time", elapsed.Round(time.Millisecond))
	}
	if res.ConsoleLog == "" && !c.tempWorkDir && fileExists(b.path("console.log")) {
		res.ConsoleLog = b.path("console.log")
	}
	done(err)
	return res
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// imageName is the image's file name without its extension, used to name
// kept consoles.
func imageName(image string) string {
	base := filepath.Base(image)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
