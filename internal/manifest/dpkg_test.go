package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/apt"
)

// testdataPackages is what testdata/status holds, as ParseDpkgStatus reads it.
var testdataPackages = []Package{
	{Name: "base-files", Version: "12.4+deb12u11", Arch: "amd64", Source: "base-files", InstalledSize: 341},
	{Name: "libc6", Version: "2.36-9+deb12u14", Arch: "amd64", Source: "glibc", InstalledSize: 13001},
	{Name: "libc6", Version: "2.36-9+deb12u14", Arch: "i386", Source: "glibc", InstalledSize: 12786},
	{Name: "libstdc++6", Version: "12.2.0-14+deb12u1", Arch: "amd64", Source: "gcc-12", InstalledSize: 2686},
	{Name: "openssh-server", Version: "1:9.2p1-2+deb12u7", Arch: "amd64", Source: "openssh", InstalledSize: 1820},
	{Name: "tzdata", Version: "2025b-0+deb12u2", Arch: "all", Source: "tzdata", InstalledSize: 2565},
}

func TestReadDpkgStatus(t *testing.T) {
	root := t.TempDir()
	data, err := os.ReadFile("testdata/status")
	if err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(root, "var/lib/dpkg/status")
	if err := os.MkdirAll(filepath.Dir(status), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(status, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDpkgStatus(root)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, testdataPackages) {
		t.Errorf("got\n%+v\nwant\n%+v", got, testdataPackages)
	}
}

func TestReadDpkgStatusMissing(t *testing.T) {
	if _, err := ReadDpkgStatus(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func TestParseDpkgStatus(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Package
	}{
		{"empty", "", nil},
		{"no source, no size", "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n",
			[]Package{{Name: "a", Version: "1", Arch: "all", Source: "a"}}},
		{"multi-line description and conffiles", "Package: b\nStatus: install ok installed\nConffiles:\n /etc/b 0123\n" +
			"Description: short\n long\n .\n more\nVersion: 2\nArchitecture: amd64\nSource: bsrc (1-1)\nInstalled-Size: 7\n",
			[]Package{{Name: "b", Version: "2", Arch: "amd64", Source: "bsrc", InstalledSize: 7}}},
		{"removed, config-files, half-installed and purged skipped",
			"Package: c\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n\n" +
				"Package: d\nStatus: install reinstreq half-installed\nVersion: 1\nArchitecture: all\n\n" +
				"Package: e\nStatus: purge ok not-installed\n\n" +
				"Package: f\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n",
			[]Package{{Name: "f", Version: "1", Arch: "all", Source: "f"}}},
		{"held packages count", "Package: g\nStatus: hold ok installed\nVersion: 1\nArchitecture: all\n",
			[]Package{{Name: "g", Version: "1", Arch: "all", Source: "g"}}},
		{"sorted by name then arch", "Package: z\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n" +
			"Package: y\nStatus: install ok installed\nVersion: 1\nArchitecture: i386\n\n" +
			"Package: y\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n",
			[]Package{{"y", "1", "amd64", "y", 0}, {"y", "1", "i386", "y", 0}, {"z", "1", "all", "z", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDpkgStatus(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseDpkgStatusErrors(t *testing.T) {
	ok := "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\n"
	tests := []struct {
		name, in, wantText string
		wantIs             error
	}{
		{"missing version", ok + "Package: b\nStatus: install ok installed\nArchitecture: all\n",
			"paragraph at line 6: missing field Version", ErrMissingField},
		{"missing architecture", ok + ok + "Package: b\nVersion: 1\nStatus: install ok installed\n",
			"paragraph at line 11: missing field Architecture", ErrMissingField},
		{"missing status", ok + "Package: b\nVersion: 1\n", "paragraph at line 6: missing field Status", ErrMissingField},
		{"missing package", "Status: install ok installed\n", "paragraph at line 1: missing field Package", ErrMissingField},
		{"bad status", "Package: a\nStatus: installed\n", `paragraph at line 1: malformed field Status "installed"`, ErrBadField},
		{"bad size", "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nInstalled-Size: 1.5\n",
			`malformed field Installed-Size "1.5"`, ErrBadField},
		{"syntax", ok + "Package: b\n continuation\nbroken line\n", "line 8", apt.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDpkgStatus(strings.NewReader(tt.in))
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("err = %v, want %v containing %q", err, tt.wantIs, tt.wantText)
			}
		})
	}
}

// TestParseHostDpkgStatus reads this machine's real status file.
func TestParseHostDpkgStatus(t *testing.T) {
	pkgs, err := ReadDpkgStatus("/")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no dpkg on this host")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 50 {
		t.Errorf("only %d packages installed on a Debian host", len(pkgs))
	}
}

func FuzzParseDpkgStatus(f *testing.F) {
	seed, err := os.ReadFile("testdata/status")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nInstalled-Size: 9\n")
	f.Add("Package: a\nStatus: hold ok installed\n")
	f.Add(" x\n")
	f.Fuzz(func(t *testing.T, in string) {
		pkgs, err := ParseDpkgStatus(strings.NewReader(in))
		if err != nil {
			return
		}
		for i, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Arch == "" || p.Source == "" || p.InstalledSize < 0 {
				t.Fatalf("incomplete package %+v", p)
			}
			if i > 0 && comparePackages(pkgs[i-1], p) > 0 {
				t.Fatalf("not sorted: %+v before %+v", pkgs[i-1], p)
			}
		}
	})
}
