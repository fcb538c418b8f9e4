package artifact

import (
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestSparseReader reads files with holes in every position: the bytes
// must equal a plain read.
func TestSparseReader(t *testing.T) {
	layouts := map[string][][2]int64{ // (offset, length) of data; the rest holes
		"empty":           nil,
		"all data":        {{0, 300000}},
		"hole at start":   {{1 << 20, 5000}},
		"hole at end":     {{0, 5000}},
		"holes between":   {{0, 10}, {2 << 20, 70000}, {5 << 20, 1}},
		"data at the end": {{3 << 20, 4096}},
	}
	for name, data := range layouts {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(6 << 20); err != nil {
				t.Fatal(err)
			}
			for i, d := range data {
				buf := make([]byte, d[1])
				for j := range buf {
					buf[j] = byte(i + j%251 + 1)
				}
				if _, err := f.WriteAt(buf, d[0]); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := os.ReadFile(path)
			r, err := NewSparseReader(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != sha256.Sum256(want) || len(got) != len(want) {
				t.Errorf("sparse read of %d bytes differs from the plain read of %d", len(got), len(want))
			}
		})
	}
}
