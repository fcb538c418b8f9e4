package boottest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/hygiene"
	"github.com/bakery-dev/bakery/internal/runner"
)

// HygienePrefix starts the name of each offline hygiene check.
const HygienePrefix = "hygiene/"

// ConvertRawArgs returns the qemu-img command line that writes image as a
// sparse raw disk.
func ConvertRawArgs(image, raw string) []string {
	return []string{"qemu-img", "convert", "-q", "-O", "raw", image, raw}
}

// RdumpArgs returns the debugfs command line that copies the whole ext4
// file system starting offset bytes into raw to dir, with modes and owners
// (debugfs does not keep setuid, setgid and sticky bits).
func RdumpArgs(raw string, offset int64, dir string) []string {
	return []string{"debugfs", "-R", "rdump / " + dir, raw + "?offset=" + strconv.FormatInt(offset, 10)}
}

// ExtractRoot copies the root file system of a qcow2 image to dir/tree,
// without mounting anything: the image is converted to a raw disk in dir,
// its root partition found in the GPT and the file system dumped with
// debugfs. The raw disk is removed before returning; the tree is the
// caller's.
func ExtractRoot(ctx context.Context, r runner.Runner, image, dir string) (string, error) {
	raw := filepath.Join(dir, "disk.raw")
	defer os.Remove(raw)
	if _, err := r.Run(ctx, runner.Cmd{Args: ConvertRawArgs(image, raw)}); err != nil {
		return "", fmt.Errorf("extracting root of %s: %w", image, err)
	}
	root, err := rootPartitionOf(raw)
	if err != nil {
		return "", fmt.Errorf("extracting root of %s: %w", image, err)
	}
	tree := filepath.Join(dir, "tree")
	if err := os.Mkdir(tree, 0o755); err != nil {
		return "", fmt.Errorf("extracting root of %s: %w", image, err)
	}
	if _, err := r.Run(ctx, runner.Cmd{Args: RdumpArgs(raw, root.Offset(), tree)}); err != nil {
		return tree, fmt.Errorf("extracting root of %s: %w", image, err)
	}
	if _, err := os.Stat(filepath.Join(tree, "etc")); err != nil {
		return tree, fmt.Errorf("extracting root of %s: partition %d holds no /etc: %w", image, root.Number, err)
	}
	return tree, nil
}

func rootPartitionOf(raw string) (Partition, error) {
	f, err := os.Open(raw)
	if err != nil {
		return Partition{}, err
	}
	defer f.Close()
	parts, err := ReadGPT(f)
	if err != nil {
		return Partition{}, err
	}
	return RootPartition(parts)
}

// offlineChecks extracts the image's root tree into dir and runs
// hygiene.CheckImage on it: one check per rule, or one failed "hygiene"
// check when the tree could not be extracted. Before dir is removed, use
// may take what it needs from the tree.
func offlineChecks(ctx context.Context, r runner.Runner, image, dir string, use func(tree string)) []Check {
	start := time.Now()
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return []Check{{Name: "hygiene", Duration: time.Since(start), Evidence: err.Error()}}
	}
	tree, err := ExtractRoot(ctx, r, image, dir)
	if err != nil {
		return []Check{{Name: "hygiene", Duration: time.Since(start), Evidence: err.Error()}}
	}
	extracted := time.Since(start)
	use(tree)
	var checks []Check
	for _, res := range hygiene.CheckImage(tree) {
		checks = append(checks, Check{Name: HygienePrefix + res.Rule, Passed: res.Passed, Evidence: hygieneEvidence(res)})
	}
	// One walk serves every rule: share its time, after the extraction.
	each := (time.Since(start) - extracted) / time.Duration(max(1, len(checks)))
	for i := range checks {
		checks[i].Duration = each
	}
	checks[0].Duration += extracted
	return checks
}

// maxFoundShown bounds how many offending paths a check's evidence lists.
const maxFoundShown = 5

func hygieneEvidence(res hygiene.Result) string {
	if res.Passed {
		if res.Detail != "" {
			return res.Detail
		}
		return "clean"
	}
	found := res.Found
	more := ""
	if len(found) > maxFoundShown {
		more = fmt.Sprintf(" (and %d more)", len(found)-maxFoundShown)
		found = found[:maxFoundShown]
	}
	ev := "found " + strings.Join(found, ", ") + more
	if res.Detail != "" {
		ev += ": " + res.Detail
	}
	return ev
}

// newestKernel returns the last /boot/vmlinuz-* of a tree in version
// order, or "".
func newestKernel(tree string) string {
	m, _ := filepath.Glob(filepath.Join(tree, "boot", "vmlinuz-*"))
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}
