package catalog

import (
	"fmt"
	"time"
)

// Artifact kinds of a QA run (kept in the artifact store like an image's
// own artifacts, but recorded with the run).
const (
	KindQAReport = "qa-report" // the JSON report of the run
	KindQAJUnit  = "qa-junit"  // the same results as JUnit XML
	KindConsole  = "console"   // a serial console log, one per boot
	// KindTestScript is a recipe test script kept with an image; Filename
	// is the path the recipe lists. bakery test runs these when the image
	// is tested from the catalog.
	KindTestScript = "test-script"
)

// QAResult is the verdict of one boot test of an image ("bakery test"):
// which firmware and accelerator ran, how long each boot took to answer on
// SSH and how every check went.
//
// Round-trip contract: as for Image, TestedAt comes back in UTC truncated to
// the microsecond and nil and empty slices are not told apart.
type QAResult struct {
	Image     string        `json:"image"` // the image's name; set by the catalog on reads
	Passed    bool          `json:"passed"`
	Accel     string        `json:"accel"`          // "kvm" or "tcg"
	Firmwares []string      `json:"firmwares"`      // in boot order: "bios", "uefi"
	BootToSSH time.Duration `json:"boot_to_ssh_ns"` // the slowest boot's time from QEMU's start to an SSH login
	TestedAt  time.Time     `json:"tested_at"`
	Duration  time.Duration `json:"duration_ns"` // the whole test
	Boots     []QABoot      `json:"boots"`
	Checks    []QACheck     `json:"checks"`
	Artifacts []Artifact    `json:"artifacts"` // report, JUnit, console logs
}

// QABoot is one boot of a QA run.
type QABoot struct {
	Firmware  string        `json:"firmware"`
	Passed    bool          `json:"passed"` // SSH answered
	BootToSSH time.Duration `json:"boot_to_ssh_ns"`
}

// QACheck is the result of one check of a QA run. Firmware is empty for
// checks that do not belong to one boot (offline hygiene, comparisons
// between boots).
type QACheck struct {
	Name     string        `json:"name"`
	Firmware string        `json:"firmware,omitempty"`
	Passed   bool          `json:"passed"`
	Skipped  bool          `json:"skipped,omitempty"` // could not run here (e.g. needs two boots); not a failure
	Duration time.Duration `json:"duration_ns"`
	Evidence string        `json:"evidence"`
}

// Failed returns the checks that neither passed nor were skipped.
func (q QAResult) Failed() []QACheck {
	var out []QACheck
	for _, c := range q.Checks {
		if !c.Passed && !c.Skipped {
			out = append(out, c)
		}
	}
	return out
}

// Validate checks what every backend relies on: the time is set, every
// check is named, and artifact filenames are unique. Errors wrap
// ErrInvalid.
func (q QAResult) Validate() error {
	if q.TestedAt.IsZero() {
		return fmt.Errorf("%w: QA result of %s has no test time", ErrInvalid, q.Image)
	}
	for i, c := range q.Checks {
		if c.Name == "" {
			return fmt.Errorf("%w: QA result of %s: check #%d has no name", ErrInvalid, q.Image, i)
		}
	}
	files := map[string]bool{}
	for _, a := range q.Artifacts {
		if a.Filename == "" || files[a.Filename] {
			return fmt.Errorf("%w: QA result of %s: artifact filename %q is empty or repeated", ErrInvalid, q.Image, a.Filename)
		}
		files[a.Filename] = true
	}
	return nil
}
