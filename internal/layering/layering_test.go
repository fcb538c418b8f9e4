// Package layering holds a test that enforces the package layering of the
// repository: which packages may import which.
package layering

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/bakery-dev/bakery/"

// lower lists packages that are foundations: they must not import any of
// the higher-level packages named in higher.
var lower = []string{
	"internal/runner", "internal/progress", "internal/recipe", "internal/catalog",
	"internal/artifact", "internal/apt", "internal/hygiene", "internal/version",
	"internal/pgpkey", "internal/simplestreams",
}

var higher = []string{"cmd/", "internal/build", "internal/boottest", "internal/server", "internal/publish"}

// imports maps each package directory (relative to the repository root) to
// the imports of its non-test files.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel("../..", filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[dir] = append(out[dir], p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOnlyRunnerExecutesPrograms(t *testing.T) {
	all := imports(t)
	if !contains(all["internal/runner"], "os/exec") {
		t.Fatalf("the walk did not see internal/runner's use of os/exec: %v", all["internal/runner"])
	}
	for dir, imps := range all {
		for _, p := range imps {
			if p == "os/exec" && dir != "internal/runner" {
				t.Errorf("%s imports os/exec: only internal/runner may start programs", dir)
			}
		}
	}
}

func TestFoundationsDoNotImportHigherLayers(t *testing.T) {
	for dir, imps := range imports(t) {
		if !hasPrefix(dir, lower) {
			continue
		}
		for _, p := range imps {
			if rel, ok := strings.CutPrefix(p, module); ok && hasPrefix(rel, higher) {
				t.Errorf("%s imports %s: a foundation package must not depend on a higher layer", dir, rel)
			}
		}
	}
}

func TestNothingImportsCmd(t *testing.T) {
	for dir, imps := range imports(t) {
		for _, p := range imps {
			if strings.HasPrefix(p, module+"cmd/") {
				t.Errorf("%s imports %s: commands are leaves", dir, p)
			}
		}
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, p+"/") || (strings.HasSuffix(p, "/") && strings.HasPrefix(s, p)) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
