package element

import (
	"strings"
	"testing"
)

// FuzzParsePackageInstalls checks that package-installs.yaml parsing never
// panics, that errors name the file, and that every accepted name is a
// valid Debian package name (they go on the bootstrap command line).
func FuzzParsePackageInstalls(f *testing.F) {
	for _, s := range []string{"vim:\ncurl:\n  phase: install.d\n", "- jq\n- git\n", "vim: {uninstall: true}\n", "[", "a: &x\n  phase: *x\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := ParsePackageInstalls("p.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "p.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, p := range pkgs {
			if !debPackage.MatchString(p.Name) {
				t.Fatalf("accepted %q", p.Name)
			}
		}
	})
}
