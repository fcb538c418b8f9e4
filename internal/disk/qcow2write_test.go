package disk

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"

	"github.com/bakery-dev/bakery/internal/runner"
)

// sampleRaw writes a raw image of size bytes with what disks hold: text
// (compresses well), random bytes (does not: stored whole), holes and
// zero clusters (left unallocated), and a tail shorter than a cluster.
func sampleRaw(t *testing.T, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 3*qcowClusterSize+1000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	text := []byte(strings.Repeat("bakery bakes golden images; ", 20000))
	writes := []struct {
		off  int64
		data []byte
	}{
		{0, []byte("boot sector")},
		{5*qcowClusterSize + 100, text},
		{40 * qcowClusterSize, noise},
		{size / 2, text[:5000]},
		{size - 700, []byte("end of disk")},
	}
	for _, w := range writes {
		if _, err := f.WriteAt(w.data, w.off); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func writeSample(t *testing.T, raw, name string, workers int) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	if err := WriteQCOW2(context.Background(), raw, out, workers); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestWriteQCOW2Deterministic: the file does not depend on the number of
// workers, and reading it back (L1 → L2 → cluster, inflating compressed
// ones) gives the raw image.
func TestWriteQCOW2Deterministic(t *testing.T) {
	size := int64(48<<20 + 3*512)
	raw := sampleRaw(t, size)
	one := writeSample(t, raw, "one.qcow2", 1)
	four := writeSample(t, raw, "four.qcow2", 4)
	if !bytes.Equal(one, four) {
		t.Fatal("1 and 4 workers wrote different files")
	}
	want, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := readQCOW2(t, one, size); !bytes.Equal(got, want) {
		t.Fatal("the qcow2 does not read back as the raw image")
	}
	if len(one) > 1<<20 {
		t.Errorf("qcow2 of a mostly empty disk is %d bytes", len(one))
	}
}

// readQCOW2 is a minimal reader for the images WriteQCOW2 makes.
func readQCOW2(t *testing.T, img []byte, size int64) []byte {
	t.Helper()
	be := binary.BigEndian
	if string(img[:4]) != "QFI\xfb" || be.Uint32(img[4:]) != 3 || int64(be.Uint64(img[24:])) != size {
		t.Fatalf("bad header % x", img[:32])
	}
	l1Size, l1Off := int64(be.Uint32(img[36:])), int64(be.Uint64(img[40:]))
	out := make([]byte, size)
	for i := int64(0); i < l1Size; i++ {
		l2Off := int64(be.Uint64(img[l1Off+8*i:]) &^ qcowCopied)
		if l2Off == 0 {
			continue
		}
		for j := int64(0); j < qcowL2Entries; j++ {
			e := be.Uint64(img[l2Off+8*j:])
			guest := (i*qcowL2Entries + j) * qcowClusterSize
			if e == 0 || guest >= size {
				continue
			}
			dst := out[guest:min(guest+qcowClusterSize, size)]
			if e&qcowCompressed == 0 {
				copy(dst, img[e&^qcowCopied:])
				continue
			}
			off := int64(e & (1<<qcowCsizeShift - 1))
			n := (int64(e>>qcowCsizeShift&0xff)+1)*qcowSector - off%qcowSector
			cluster := make([]byte, qcowClusterSize)
			r := flate.NewReader(bytes.NewReader(img[off:min(off+n, int64(len(img)))]))
			if _, err := io.ReadFull(r, cluster); err != nil {
				t.Fatalf("inflating cluster %d: %v", guest/qcowClusterSize, err)
			}
			copy(dst, cluster)
		}
	}
	return out
}

// TestIntegrationWriteQCOW2 checks the file with qemu-img: no errors or
// leaks in its metadata, and the same content as the raw image.
func TestIntegrationWriteQCOW2(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: qemu-img")
	}
	if err := runner.Require("qemu-img"); err != nil {
		t.Skip(err)
	}
	size := int64(1100<<20 + 3*512) // three L2 tables
	raw := sampleRaw(t, size)
	out := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := WriteQCOW2(context.Background(), raw, out, 0); err != nil {
		t.Fatal(err)
	}
	r := runner.Exec{}
	ctx := context.Background()
	if res, err := r.Run(ctx, runner.Cmd{Args: QemuImgCheckArgs(out)}); err != nil {
		t.Fatalf("qemu-img check: %v\n%s", err, res)
	}
	if res, err := r.Run(ctx, runner.Cmd{Args: []string{"qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, out}}); err != nil {
		t.Fatalf("qemu-img compare: %v\n%s", err, res)
	}
	info, err := r.Run(ctx, runner.Cmd{Args: []string{"qemu-img", "info", "--output=json", out}})
	if err != nil || !strings.Contains(string(info), `"compression-type": "zlib"`) {
		t.Errorf("qemu-img info: %v\n%s", err, info)
	}
}
