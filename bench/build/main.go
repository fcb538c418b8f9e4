// Command build measures bakery's cold build of examples/debian-cloud.yaml
// against a plain mmdebstrap of the same package set into a tarball, in the
// same run, and writes bench/results/build.json.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
)

type result struct {
	Date             time.Time `json:"date"`
	Recipe           string    `json:"recipe"`
	MmdebstrapSecond float64   `json:"mmdebstrap_seconds"`
	BakerySeconds    float64   `json:"bakery_seconds"`
	Ratio            float64   `json:"ratio"`
	Target           float64   `json:"target_ratio"`
	QCOW2Bytes       int64     `json:"qcow2_bytes"`
	Packages         int       `json:"packages"`
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "bench-build:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	const recipePath = "examples/debian-cloud.yaml"
	r, err := recipe.Load(recipePath)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("/var/tmp", "bakery-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	plain, err := timePlain(ctx, r, work)
	if err != nil {
		return err
	}
	baked, out, err := timeBakery(ctx, recipePath, work)
	if err != nil {
		return err
	}
	res := result{Date: time.Now().UTC(), Recipe: recipePath, MmdebstrapSecond: plain.Seconds(),
		BakerySeconds: baked.Seconds(), Ratio: baked.Seconds() / plain.Seconds(), Target: 1.3}
	res.QCOW2Bytes, res.Packages = imageFacts(out)
	fmt.Printf("plain mmdebstrap: %.1f s\nbakery build:     %.1f s\nratio:            %.2f (target ≤ %.1f)\nqcow2:            %.1f MiB\n",
		res.MmdebstrapSecond, res.BakerySeconds, res.Ratio, res.Target, float64(res.QCOW2Bytes)/(1<<20))
	return writeResult(res)
}

// timePlain runs the same mmdebstrap bootstrap bakery runs, into a tarball.
func timePlain(ctx context.Context, r *recipe.Recipe, work string) (time.Duration, error) {
	sources, err := apt.ParseSources("/etc/apt")
	if err != nil {
		return 0, err
	}
	mirror, security, err := apt.HostMirrors(sources, r.Release)
	if err != nil {
		return 0, err
	}
	b := build.Bootstrap{Release: r.Release, Arch: r.Arch, Mirror: mirror, SecurityMirror: security,
		Packages: append(append([]string{r.Kernel}, build.BasePackages...), r.Packages...)}
	args := b.Args(filepath.Join(work, "plain.tar"))
	args = append(args[:4:4], append([]string{"--format=tar"}, args[4:]...)...)
	args = removeArg(args, "--format=directory")
	start := time.Now()
	if _, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: args}); err != nil {
		return 0, fmt.Errorf("plain mmdebstrap: %w", err)
	}
	return time.Since(start), nil
}

func removeArg(args []string, drop string) []string {
	out := args[:0:0]
	for _, a := range args {
		if a != drop {
			out = append(out, a)
		}
	}
	return out
}

func timeBakery(ctx context.Context, recipePath, work string) (time.Duration, []byte, error) {
	start := time.Now()
	out, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: []string{"bin/bakery", "--quiet", "--json",
		"--state-dir", filepath.Join(work, "state"), "build", recipePath}})
	if err != nil {
		return 0, nil, fmt.Errorf("bakery build: %w", err)
	}
	return time.Since(start), out, nil
}

func imageFacts(out []byte) (int64, int) {
	var b struct {
		Image struct {
			Artifacts []struct {
				Kind string
				Size int64
			}
			Packages []json.RawMessage
		} `json:"image"`
	}
	_ = json.Unmarshal(out, &b)
	var size int64
	for _, a := range b.Image.Artifacts {
		if strings.EqualFold(a.Kind, "qcow2") {
			size = a.Size
		}
	}
	return size, len(b.Image.Packages)
}

func writeResult(res result) error {
	if err := os.MkdirAll("bench/results", 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile("bench/results/build.json", append(data, '\n'), 0o644)
}
