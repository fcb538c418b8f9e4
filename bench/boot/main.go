// Command boot measures bakery's boot test: boot-to-SSH seconds under
// SeaBIOS and OVMF, and the wall time of a whole `bakery test` with one
// firmware, against the targets (boot to SSH ≤ 60 s, whole test ≤ 90 s on
// a 2-core machine with TCG). It tests the newest image of the state
// directory (building examples/debian-cloud.yaml there first if it has
// none) and writes bench/results/boot.json.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

// Targets on a 2-core machine under TCG.
const (
	targetBootToSSH = 60.0
	targetWholeTest = 90.0
)

type firmwareResult struct {
	Firmware         string   `json:"firmware"`
	Accel            string   `json:"accel"`
	Passed           bool     `json:"passed"`
	BootToSSHSeconds float64  `json:"boot_to_ssh_seconds"`
	WholeTestSeconds float64  `json:"whole_test_seconds"`
	Failed           []string `json:"failed_checks,omitempty"`
}

type result struct {
	Date            time.Time        `json:"date"`
	Image           string           `json:"image"`
	CPUs            int              `json:"cpus"`
	LoadAverage     string           `json:"load_average_at_start"` // the benchmark shares the machine
	LoadAverageEnd  string           `json:"load_average_at_end"`
	Runs            []firmwareResult `json:"runs"`
	TargetBootToSSH float64          `json:"target_boot_to_ssh_seconds"`
	TargetWholeTest float64          `json:"target_whole_test_seconds"`
	MeetsTargets    bool             `json:"meets_targets"`
}

func main() {
	state := flag.String("state-dir", ".state/demo", "state directory whose newest image is tested")
	bin := flag.String("bakery", "bin/bakery", "the bakery binary")
	accel := flag.String("accel", "auto", "accelerator passed to bakery test")
	flag.Parse()
	if err := run(context.Background(), *bin, *state, *accel); err != nil {
		fmt.Fprintln(os.Stderr, "bench-boot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, state, accel string) error {
	image, err := newestImage(ctx, bin, state)
	if err != nil {
		return err
	}
	res := result{Date: time.Now().UTC(), Image: image, CPUs: runtime.NumCPU(), LoadAverage: loadAverage(),
		TargetBootToSSH: targetBootToSSH, TargetWholeTest: targetWholeTest, MeetsTargets: true}
	for _, fw := range []string{"bios", "uefi"} {
		fr, err := timeTest(ctx, bin, state, image, fw, accel)
		if err != nil {
			return err
		}
		fmt.Printf("%-4s (%s): boot to SSH %5.1f s (target ≤ %.0f), whole bakery test %5.1f s (target ≤ %.0f), passed %v\n",
			fw, fr.Accel, fr.BootToSSHSeconds, targetBootToSSH, fr.WholeTestSeconds, targetWholeTest, fr.Passed)
		res.MeetsTargets = res.MeetsTargets && fr.Passed && fr.BootToSSHSeconds <= targetBootToSSH && fr.WholeTestSeconds <= targetWholeTest
		res.Runs = append(res.Runs, fr)
	}
	res.LoadAverageEnd = loadAverage()
	fmt.Printf("load average at start %s, at end %s on %d CPUs; meets targets: %v\n", res.LoadAverage, res.LoadAverageEnd, res.CPUs, res.MeetsTargets)
	return writeResult(res)
}

// newestImage returns the name of the state's newest image, building the
// example recipe first when there is none.
func newestImage(ctx context.Context, bin, state string) (string, error) {
	for attempt := 0; attempt < 2; attempt++ {
		out, err := bakery(ctx, bin, state, "images")
		if err != nil {
			return "", err
		}
		var imgs []struct{ Name string }
		if err := json.Unmarshal(out, &imgs); err != nil {
			return "", fmt.Errorf("reading bakery images: %w", err)
		}
		if len(imgs) > 0 {
			return imgs[0].Name, nil
		}
		fmt.Println("no image in", state, "- building examples/debian-cloud.yaml first")
		if _, err := bakery(ctx, bin, state, "build", "examples/debian-cloud.yaml"); err != nil {
			return "", err
		}
	}
	return "", errors.New("no image after building one")
}

func bakery(ctx context.Context, bin, state string, args ...string) ([]byte, error) {
	argv := append([]string{bin, "--quiet", "--json", "--state-dir", state}, args...)
	return (runner.Exec{}).Run(ctx, runner.Cmd{Args: argv})
}

// timeTest runs a whole bakery test of image under one firmware.
func timeTest(ctx context.Context, bin, state, image, fw, accel string) (firmwareResult, error) {
	start := time.Now()
	out, err := bakery(ctx, bin, state, "test", "--firmware", fw, "--accel", accel, image)
	wall := time.Since(start)
	var reports []struct {
		Report struct {
			Accel  string `json:"accel"`
			Passed bool   `json:"passed"`
			Boots  []struct {
				BootToSSH time.Duration `json:"boot_to_ssh_ns"`
			} `json:"boots"`
			Checks []struct {
				Name     string `json:"name"`
				Firmware string `json:"firmware"`
				Passed   bool   `json:"passed"`
				Skipped  bool   `json:"skipped"`
			} `json:"checks"`
		} `json:"report"`
	}
	if jerr := json.Unmarshal(out, &reports); jerr != nil || len(reports) != 1 {
		return firmwareResult{}, fmt.Errorf("bakery test %s: %v (%v)", fw, err, jerr)
	}
	r := reports[0].Report
	fr := firmwareResult{Firmware: fw, Accel: r.Accel, Passed: r.Passed, WholeTestSeconds: wall.Seconds()}
	if len(r.Boots) == 1 {
		fr.BootToSSHSeconds = r.Boots[0].BootToSSH.Seconds()
	}
	for _, c := range r.Checks {
		if !c.Passed && !c.Skipped {
			fr.Failed = append(fr.Failed, strings.TrimSpace(c.Firmware+" "+c.Name))
		}
	}
	return fr, nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func writeResult(res result) error {
	if err := os.MkdirAll("bench/results", 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile("bench/results/boot.json", append(data, '\n'), 0o644)
}
