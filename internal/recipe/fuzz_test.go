package recipe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is a user
// error, and that a recipe survives a round trip through its YAML.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range malformed {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !IsUserError(err) || err.Error() == "" {
				t.Fatalf("Parse failed with a non-user error: %v", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Validate after a successful Parse: %v", err)
		}
		again, err := Parse("effective.yaml", r.YAML())
		if err != nil {
			t.Fatalf("Parse(YAML()): %v\n%s", err, r.YAML())
		}
		if !bytes.Equal(again.Canonical(), r.Canonical()) {
			t.Fatalf("round trip changed the recipe:\n%s\n%s", r.Canonical(), again.Canonical())
		}
	})
}
