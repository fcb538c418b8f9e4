package apt

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParsePackages(t *testing.T) {
	f, err := os.Open("testdata/repo/Packages")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkgs, err := ParsePackages(f)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Package{}
	for _, p := range pkgs {
		byName[p.Name] = p
	}
	apt := byName["apt"]
	if apt.Version != "2.6.1" || apt.Architecture != "amd64" || apt.Filename != "pool/main/a/apt/apt_2.6.1_amd64.deb" ||
		apt.Size != 1372852 || apt.SHA256 != "6ea03cbbc7a7bfcee601c9fb08d4e026fd522ede5350561f06867ad9c0a0fa6b" ||
		apt.Priority != "required" || apt.Essential || apt.Provides != "apt-transport-https (= 2.6.1)" ||
		!strings.HasPrefix(apt.Depends, "adduser, gpgv | gpgv2 | gpgv1,") {
		t.Errorf("apt: %+v", apt)
	}
	if bf := byName["base-files"]; !bf.Essential {
		t.Errorf("base-files not essential: %+v", bf)
	}
	if dash := byName["dash"]; dash.PreDepends == "" {
		t.Errorf("dash without Pre-Depends")
	}
	if len(pkgs) < 5 {
		t.Errorf("%d packages", len(pkgs))
	}
}

func TestParsePackagesErrors(t *testing.T) {
	base := "Package: a\nVersion: 1.0\nArchitecture: all\nFilename: pool/a.deb\n"
	tests := map[string]string{
		"no filename":  "Package: a\nVersion: 1.0\nArchitecture: all\n",
		"no version":   "Package: a\nArchitecture: all\nFilename: x\n",
		"bad version":  strings.Replace(base, "1.0", "x1", 1),
		"bad sha256":   base + "SHA256: abc\n",
		"bad size":     base + "Size: many\n",
		"continuation": " oops\n",
	}
	for name, in := range tests {
		if _, err := ParsePackages(strings.NewReader(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: err %v, want ErrSyntax", name, err)
		}
	}
}

func TestParseRelations(t *testing.T) {
	got, err := ParseRelations("libc6 (>= 2.34), gpgv | gpgv2, python3:any, foo [amd64] (<< 2~)")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]Relation{
		{{Name: "libc6", Op: ">=", Version: "2.34"}},
		{{Name: "gpgv"}, {Name: "gpgv2"}},
		{{Name: "python3:any"}},
		{{Name: "foo", Op: "<<", Version: "2~", Arch: "amd64"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"a (>= 1", "a (~ 1)", "(>= 1)", "a b", "a ]x[", "a (>=)"} {
		if _, err := ParseRelations(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseRelations(%q): err %v", bad, err)
		}
	}
}

func FuzzParsePackages(f *testing.F) {
	if data, err := os.ReadFile("testdata/repo/Packages"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("Package: a\nVersion: 1:1.0-1\nArchitecture: all\nFilename: pool/a.deb\nSize: 3\nDepends: b (>= 1) | c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkStreamingAgrees(t, data)
		pkgs, err := ParsePackages(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Filename == "" || p.Size < 0 {
				t.Fatalf("accepted %+v", p)
			}
			if _, err := ParseVersion(p.Version); err != nil {
				t.Fatalf("accepted version %q: %v", p.Version, err)
			}
			_, _ = ParseRelations(p.Depends)
		}
	})
}

// checkStreamingAgrees checks that EachParagraph sees what ParseParagraphs
// returns.
func checkStreamingAgrees(t *testing.T, data []byte) {
	t.Helper()
	want, werr := ParseParagraphs(bytes.NewReader(data))
	var got []Paragraph
	gerr := EachParagraph(bytes.NewReader(data), func(p Paragraph) error {
		got = append(got, p)
		return nil
	})
	if (werr == nil) != (gerr == nil) || (werr == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("EachParagraph: %+v, %v\nParseParagraphs: %+v, %v", got, gerr, want, werr)
	}
}

func TestEachPackage(t *testing.T) {
	data, err := os.ReadFile("testdata/repo/Packages")
	if err != nil {
		t.Fatal(err)
	}
	checkStreamingAgrees(t, data)
	var names []string
	err = EachPackage(bytes.NewReader(data), func(p Package) error {
		names = append(names, p.Name)
		return nil
	})
	if err != nil || strings.Join(names, " ") != "apt base-files dash libgcc-s1 libc6 tzdata" {
		t.Errorf("names %v, %v", names, err)
	}
}
