package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/boottest"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

type testFlags struct {
	firmware string
	accel    string
	timeout  time.Duration
}

// errTestFailed is returned when an image boots but a check fails.
var errTestFailed = errors.New("boot test failed")

func runTest(ctx context.Context, g *globals, args []string) error {
	f := testFlags{}
	fs := g.flagSet("test", "bakery test [flags] IMAGE (catalog name or qcow2 path)")
	fs.StringVar(&f.firmware, "firmware", "bios,uefi", "firmwares to boot with: bios, uefi or both")
	fs.StringVar(&f.accel, "accel", "auto", "accelerator: auto (KVM only if a probe guest really runs), kvm or tcg")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "time allowed for each boot")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("test needs exactly one image (catalog name or qcow2 path)")
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	path, err := imagePath(ctx, st, fs.Arg(0))
	if err != nil {
		return err
	}
	return bootTest(ctx, g, path, f, st)
}

// imagePath resolves a catalog name to its qcow2, or takes a file path.
func imagePath(ctx context.Context, st *stateHandles, arg string) (string, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		return arg, nil
	}
	img, err := st.catalog.GetImage(ctx, arg)
	if errors.Is(err, catalog.ErrNotFound) {
		return "", usagef("%s is neither a file nor an image in the catalog (see 'bakery images')", arg)
	}
	if err != nil {
		return "", err
	}
	for _, a := range img.Artifacts {
		if a.Kind == "qcow2" {
			return st.store.Path(a.Digest)
		}
	}
	return "", fmt.Errorf("image %s has no qcow2 artifact", arg)
}

func parseFirmwares(s string) ([]qemu.Firmware, error) {
	var out []qemu.Firmware
	for _, p := range strings.Split(s, ",") {
		switch p = strings.TrimSpace(p); p {
		case "bios", "uefi":
			out = append(out, qemu.Firmware(p))
		default:
			return nil, usagef("--firmware: %q is not bios or uefi", p)
		}
	}
	return out, nil
}

func parseAccel(s string) (qemu.Accel, error) {
	switch s {
	case "", "auto":
		return "", nil
	case "kvm", "tcg":
		return qemu.Accel(s), nil
	}
	return "", usagef("--accel: %q is not auto, kvm or tcg", s)
}

func bootTest(ctx context.Context, g *globals, image string, f testFlags, st *stateHandles) error {
	if f.firmware == "" {
		f.firmware = "bios,uefi"
	}
	fws, err := parseFirmwares(f.firmware)
	if err != nil {
		return err
	}
	accel, err := parseAccel(f.accel)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(filepath.Join(st.dir), "boottest-")
	if err != nil {
		return fmt.Errorf("creating boot-test directory: %w", err)
	}
	defer os.RemoveAll(work)
	results, err := boottest.BootCheck(ctx, runner.Exec{}, boottest.Options{
		Image: image, Firmwares: fws, Accel: accel, Timeout: f.timeout, WorkDir: work,
		KeepConsole: filepath.Join(st.dir, "consoles"), Logger: g.logger(), Progress: g.sink(),
	})
	if err != nil {
		return err
	}
	return printBootResults(g, results)
}

func printBootResults(g *globals, results []boottest.BootResult) error {
	failed := false
	for _, r := range results {
		failed = failed || !r.Passed
	}
	if g.json {
		if err := printJSON(g, results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			verdict := "PASS"
			if !r.Passed {
				verdict = "FAIL " + r.Error
			}
			fmt.Fprintf(g.stdout, "boot %-4s accel=%s  %-5s %6.1fs  %s\n", r.Firmware, r.Accel, verdict, r.BootTime.Seconds(), r.Matched)
			if !r.Passed && r.ConsoleLog != "" {
				fmt.Fprintf(g.stdout, "     console log: %s\n", r.ConsoleLog)
			}
		}
	}
	if failed {
		return errTestFailed
	}
	return nil
}
