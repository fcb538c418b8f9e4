package disk_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/disk"
	"github.com/bakery-dev/bakery/internal/runner"
)

// TestIntegrationBootableDisk builds a disk from the root tree named by
// BAKERY_TEST_TREE (a directory made by mmdebstrap with a kernel and
// initrd; the test works on a copy), converts it to qcow2 and checks the
// image and its partition table. Set BAKERY_TEST_DISK_KEEP to a directory
// to keep disk.raw and disk.qcow2 there for a boot test by hand.
func TestIntegrationBootableDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs mkfs.ext4, sfdisk, mtools, grub-mkimage, qemu-img and root")
	}
	src := os.Getenv("BAKERY_TEST_TREE")
	if src == "" {
		t.Skip("BAKERY_TEST_TREE not set: point it at a Debian root tree with /boot/vmlinuz-* and /boot/initrd.img-*")
	}
	if os.Geteuid() != 0 {
		t.Skip("integration test needs root: mkfs.ext4 -d must keep file ownership")
	}
	if err := runner.Require(disk.Tools()...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := runner.Exec{}
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	if _, err := r.Run(ctx, runner.Cmd{Args: []string{"cp", "-a", src, tree}}); err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "disk.raw")
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l, err := disk.Build(ctx, r, disk.Options{
		Tree: tree, Output: raw, Size: 3 << 30, Seed: "integration-test",
		SourceDateEpoch: 1700000000, WorkDir: work,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built raw disk in %s", time.Since(start).Round(time.Millisecond))
	checkPartitionTable(ctx, t, r, raw, l)
	checkRootFS(ctx, t, r, raw, l)

	qcow := filepath.Join(dir, "disk.qcow2")
	start = time.Now()
	if err := disk.ConvertQCOW2(ctx, r, raw, qcow, disk.QCOW2Options{Compression: "zstd"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("converted to qcow2 in %s", time.Since(start).Round(time.Millisecond))
	if _, err := r.Run(ctx, runner.Cmd{Args: disk.QemuImgCheckArgs(qcow)}); err != nil {
		t.Fatalf("qemu-img check: %v", err)
	}
	if keep := os.Getenv("BAKERY_TEST_DISK_KEEP"); keep != "" {
		for _, f := range []string{raw, qcow} {
			if err := os.Rename(f, filepath.Join(keep, filepath.Base(f))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkPartitionTable reads the table back with sfdisk --json.
func checkPartitionTable(ctx context.Context, t *testing.T, r runner.Runner, raw string, l disk.Layout) {
	t.Helper()
	out, err := r.Run(ctx, runner.Cmd{Args: []string{"sfdisk", "--json", raw}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		PartitionTable struct {
			Label      string `json:"label"`
			ID         string `json:"id"`
			Partitions []struct {
				Node  string `json:"node"`
				Start int64  `json:"start"`
				Size  int64  `json:"size"`
				Type  string `json:"type"`
				UUID  string `json:"uuid"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("parsing sfdisk --json: %v\n%s", err, out)
	}
	pt := got.PartitionTable
	if pt.Label != "gpt" || !strings.EqualFold(pt.ID, l.DiskGUID) {
		t.Errorf("label %q id %q, want gpt %s", pt.Label, pt.ID, l.DiskGUID)
	}
	if len(pt.Partitions) != 3 {
		t.Fatalf("got %d partitions, want 3:\n%s", len(pt.Partitions), out)
	}
	byNode := map[string]int{}
	for i, p := range pt.Partitions {
		byNode[p.Node] = i
	}
	for _, want := range l.Partitions() {
		i, ok := byNode[raw+strconv.Itoa(want.Number)]
		if !ok {
			t.Errorf("partition %d missing:\n%s", want.Number, out)
			continue
		}
		p := pt.Partitions[i]
		if p.Start != want.StartLBA() || p.Size != want.Sectors() ||
			!strings.EqualFold(p.Type, want.TypeGUID) || !strings.EqualFold(p.UUID, want.GUID) {
			t.Errorf("partition %d = %+v, want %+v", want.Number, p, want)
		}
	}
}

// checkRootFS reads grub.cfg and fstab back from the root filesystem.
func checkRootFS(ctx context.Context, t *testing.T, r runner.Runner, raw string, l disk.Layout) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "root.img")
	args := []string{"dd", "if=" + raw, "of=" + img, "bs=1M", "skip=" + strconv.Itoa(int(l.Root.Start>>20)),
		"count=" + strconv.Itoa(int(l.Root.Size>>20)), "conv=sparse", "status=none"}
	if _, err := r.Run(ctx, runner.Cmd{Args: args}); err != nil {
		t.Fatal(err)
	}
	fstab, err := r.Run(ctx, runner.Cmd{Args: []string{"debugfs", "-R", "cat /etc/fstab", img}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(fstab), "UUID="+l.RootUUID+" / ext4") {
		t.Errorf("fstab in image:\n%s", fstab)
	}
	cfg, err := r.Run(ctx, runner.Cmd{Args: []string{"debugfs", "-R", "cat /boot/grub/grub.cfg", img}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "root=UUID="+l.RootUUID) {
		t.Errorf("grub.cfg in image:\n%s", cfg)
	}
}
