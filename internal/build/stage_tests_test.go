package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecipeTestsStage(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "smoke.sh")
	plain := filepath.Join(dir, "plain.sh")
	os.WriteFile(good, []byte("#!/bin/sh\necho ok 1\n"), 0o755)
	os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644)
	ws := &Workspace{Dir: t.TempDir()}
	if err := (RecipeTests{Names: []string{"tests/smoke.sh"}, Paths: []string{good}}).Run(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	o, ok := ws.Output("test-script")
	if !ok || o.Filename != "tests/smoke.sh" {
		t.Fatalf("outputs %+v", ws.Artifacts)
	}
	if data, _ := os.ReadFile(o.Path); string(data) != "#!/bin/sh\necho ok 1\n" {
		t.Errorf("copied script %q", data)
	}
	for name, path := range map[string]string{"missing": filepath.Join(dir, "none.sh"), "not executable": plain} {
		err := (RecipeTests{Names: []string{name}, Paths: []string{path}}).Run(context.Background(), &Workspace{Dir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
