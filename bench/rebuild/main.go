// Command rebuild measures the stage cache in one run: a cold locked build
// of examples/debian-cloud.yaml in a fresh state directory, a warm rebuild
// of the same lock with another version string (the bootstrap comes from
// the stage cache), and a warm rebuild with the cold build's version,
// whose rootfs tarball, raw disk and qcow2 must be bit-identical to the
// cold build's. It prints the times, their ratio and where the warm time
// went, and writes bench/results/rebuild.json.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

const (
	recipePath = "examples/debian-cloud.yaml"
	target     = 0.25
)

type result struct {
	Date          time.Time          `json:"date"`
	Recipe        string             `json:"recipe"`
	ColdSeconds   float64            `json:"cold_seconds"`
	WarmSeconds   float64            `json:"warm_seconds"`
	Ratio         float64            `json:"ratio"`
	Target        float64            `json:"target_ratio"`
	Identical     bool               `json:"identical"`
	SameSeconds   float64            `json:"warm_same_version_seconds"`
	ColdDigests   map[string]string  `json:"cold_digests"`
	SameDigests   map[string]string  `json:"warm_same_version_digests"`
	WarmStages    map[string]float64 `json:"warm_stage_seconds"`
	ColdStages    map[string]float64 `json:"cold_stage_seconds"`
	CacheMessages []string           `json:"cache_messages"`
	// LoadAverage is /proc/loadavg before the cold build and after the
	// last one: the box is shared, and a busy one stretches every figure.
	LoadAverage [2]string `json:"load_average"`
}

type build struct {
	seconds  float64
	digests  map[string]string
	stages   map[string]float64
	messages []string
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "bench-rebuild:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	work, err := os.MkdirTemp("/var/tmp", "bakery-bench-rebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	recipe, err := copyRecipe(work)
	if err != nil {
		return err
	}
	state := filepath.Join(work, "state")
	if _, err := bakery(ctx, state, nil, "lock", recipe); err != nil {
		return err
	}
	loadBefore := loadAverage()
	cold, err := timeBuild(ctx, state, recipe, nil)
	if err != nil {
		return err
	}
	warm, err := timeBuild(ctx, state, recipe, []string{"BAKERY_VERSION=0.1.1"})
	if err != nil {
		return err
	}
	same, err := timeBuild(ctx, state, recipe, nil)
	if err != nil {
		return err
	}
	res := result{Date: time.Now().UTC(), Recipe: recipePath, ColdSeconds: cold.seconds, WarmSeconds: warm.seconds,
		Ratio: warm.seconds / cold.seconds, Target: target, SameSeconds: same.seconds,
		ColdDigests: cold.digests, SameDigests: same.digests, Identical: identical(cold.digests, same.digests),
		WarmStages: warm.stages, ColdStages: cold.stages, CacheMessages: append(cold.messages, warm.messages...),
		LoadAverage: [2]string{loadBefore, loadAverage()}}
	report(res)
	return writeResult(res)
}

func copyRecipe(work string) (string, error) {
	data, err := os.ReadFile(recipePath)
	if err != nil {
		return "", err
	}
	path := filepath.Join(work, "debian-cloud.yaml")
	return path, os.WriteFile(path, data, 0o644)
}

func bakery(ctx context.Context, state string, env []string, args ...string) ([]byte, error) {
	var events bytes.Buffer
	argv := append([]string{"bin/bakery", "--json", "--state-dir", state}, args...)
	out, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: argv, Env: env, Stderr: &events})
	if err != nil {
		return nil, fmt.Errorf("bakery %s: %w", args[0], err)
	}
	return append(out, append([]byte("\x00"), events.Bytes()...)...), nil
}

// timeBuild builds the recipe with all three disk outputs and collects
// the artifact digests and stage timings from its JSON output and events.
func timeBuild(ctx context.Context, state, recipe string, env []string) (build, error) {
	env = append(env, "BAKERY_OUTPUTS=qcow2,raw,rootfs-tar")
	start := time.Now()
	out, err := bakery(ctx, state, env, "build", recipe)
	if err != nil {
		return build{}, err
	}
	b := build{seconds: time.Since(start).Seconds(), digests: map[string]string{}, stages: map[string]float64{}}
	res, events, _ := bytes.Cut(out, []byte("\x00"))
	var doc struct {
		Image struct {
			Artifacts []struct{ Kind, Digest string }
		} `json:"image"`
	}
	if err := json.Unmarshal(res, &doc); err != nil {
		return build{}, fmt.Errorf("reading build output: %w", err)
	}
	for _, a := range doc.Image.Artifacts {
		if a.Kind == "rootfs-tar" || a.Kind == "raw" || a.Kind == "qcow2" {
			b.digests[a.Kind] = a.Digest
		}
	}
	readEvents(events, &b)
	return b, nil
}

func readEvents(events []byte, b *build) {
	sc := bufio.NewScanner(bytes.NewReader(events))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e struct {
			Kind, Stage, Message string
			Elapsed              int64 `json:"elapsed_ns"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		switch {
		case e.Kind == "stage-done":
			b.stages[e.Stage] = float64(e.Elapsed) / 1e9
		case e.Stage == "bootstrap" && strings.Contains(e.Message, " (key "):
			b.messages = append(b.messages, e.Message)
		}
	}
}

func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func identical(a, b map[string]string) bool {
	if len(a) != 3 {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func report(r result) {
	verdict := "MET"
	if r.Ratio > r.Target {
		verdict = "NOT MET"
	}
	fmt.Printf("cold build (no cache):            %.1f s\n", r.ColdSeconds)
	fmt.Printf("warm rebuild (new version):       %.1f s\n", r.WarmSeconds)
	fmt.Printf("ratio:                            %.2f (target ≤ %.2f: %s)\n", r.Ratio, r.Target, verdict)
	fmt.Printf("warm rebuild (same version):      %.1f s, bit-identical to cold: %v\n", r.SameSeconds, r.Identical)
	for _, k := range []string{"rootfs-tar", "raw", "qcow2"} {
		fmt.Printf("  %-10s cold %s\n  %-10s warm %s\n", k, r.ColdDigests[k], "", r.SameDigests[k])
	}
	fmt.Println("warm rebuild, seconds per stage:")
	names := make([]string, 0, len(r.WarmStages))
	for n := range r.WarmStages {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return r.WarmStages[names[i]] > r.WarmStages[names[j]] })
	for _, n := range names {
		fmt.Printf("  %-16s %6.1f   (cold %6.1f)\n", n, r.WarmStages[n], r.ColdStages[n])
	}
	for _, m := range r.CacheMessages {
		fmt.Println("  bootstrap:", m)
	}
	fmt.Printf("load average: %s before, %s after (2 cores)\n", r.LoadAverage[0], r.LoadAverage[1])
}

func writeResult(res result) error {
	if err := os.MkdirAll("bench/results", 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile("bench/results/rebuild.json", append(data, '\n'), 0o644)
}
