package stagecache

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadEntry feeds arbitrary entry.json files (a damaged disk writes
// anything): reading must never panic, and whatever it accepts must name
// its own key and carry a valid digest and size.
func FuzzReadEntry(f *testing.F) {
	f.Add([]byte(`{"key":"` + key(1) + `","stage":"bootstrap","digest":"sha256:` + key(2) + `","size":10}`))
	f.Add([]byte(`{"key":"` + key(1) + `","size":-1}`))
	f.Add([]byte(`{not json`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := filepath.Join(t.TempDir(), key(1))
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, entryName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := readEntry(dir)
		if err != nil {
			return
		}
		if e.Key != key(1) || e.Size <= 0 || len(e.Digest) != len("sha256:")+64 {
			t.Errorf("accepted a bad entry: %+v", e)
		}
	})
}
