package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n%s", path, got)
	}
}

var sbomOptions = SBOMOptions{
	Name:      "debian-cloud-12.20250601.0",
	Namespace: "https://bakery.invalid/spdx/debian-cloud/debian-cloud-12.20250601.0",
	Created:   time.Date(2025, 6, 1, 12, 30, 45, 999, time.FixedZone("CEST", 2*3600)),
	Creator:   "bakery-0.1.0",
	Distro:    "debian",
	Release:   "bookworm",
}

func TestSBOMGolden(t *testing.T) {
	got, err := SBOM(testdataPackages, sbomOptions)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sbom.golden.spdx.json", got)
}

func TestSBOMIgnoresInputOrder(t *testing.T) {
	a, err := SBOM(testdataPackages, sbomOptions)
	if err != nil {
		t.Fatal(err)
	}
	reversed := slices.Clone(testdataPackages)
	slices.Reverse(reversed)
	b, err := SBOM(reversed, sbomOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("SBOM depends on the order of its input")
	}
}

var spdxIDChars = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)

// TestSBOMFollowsSPDXRules checks the rules a validator would, on packages
// chosen to collide once sanitised.
func TestSBOMFollowsSPDXRules(t *testing.T) {
	pkgs := append(slices.Clone(testdataPackages),
		Package{Name: "g++", Version: "4:12.2.0-3", Arch: "amd64", Source: "gcc-defaults"},
		Package{Name: "g--", Version: "1", Arch: "amd64"},
		Package{Name: "g..", Version: "1", Arch: "amd64"},
		Package{Name: "g", Version: "1", Arch: "amd64"},
	)
	data, err := SBOM(pkgs, sbomOptions)
	if err != nil {
		t.Fatal(err)
	}
	var doc spdxDocument
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXID != "SPDXRef-DOCUMENT" {
		t.Errorf("header %+v", doc)
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", doc.CreationInfo.Created); err != nil {
		t.Errorf("created %q is not SPDX's UTC format: %v", doc.CreationInfo.Created, err)
	}
	ids := map[string]bool{doc.SPDXID: true}
	for _, p := range doc.Packages {
		if !spdxIDChars.MatchString(p.SPDXID) {
			t.Errorf("invalid SPDXID %q", p.SPDXID)
		}
		if ids[p.SPDXID] {
			t.Errorf("duplicate SPDXID %q", p.SPDXID)
		}
		ids[p.SPDXID] = true
		if p.Name == "" || p.DownloadLocation == "" || p.LicenseConcluded == "" || p.CopyrightText == "" {
			t.Errorf("package %s lacks a required field: %+v", p.SPDXID, p)
		}
	}
	if len(doc.Packages) != len(pkgs)+1 || len(doc.Relationships) != len(pkgs)+1 {
		t.Errorf("%d packages and %d relationships for %d packages and an image", len(doc.Packages), len(doc.Relationships), len(pkgs))
	}
	for _, r := range doc.Relationships {
		if !ids[r.SPDXElementID] || !ids[r.RelatedSPDXElement] {
			t.Errorf("relationship %+v names an unknown element", r)
		}
	}
}

func TestPURL(t *testing.T) {
	tests := []struct {
		p               Package
		distro, release string
		want            string
	}{
		{Package{Name: "curl", Version: "7.88.1-10+deb12u5", Arch: "amd64"}, "debian", "bookworm",
			"pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-bookworm"},
		{Package{Name: "libstdc++6", Version: "12.2.0-14", Arch: "i386"}, "", "bookworm",
			"pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=i386&distro=debian-bookworm"},
		{Package{Name: "openssh-server", Version: "1:9.2p1-2~bpo12+1", Arch: "amd64"}, "debian", "",
			"pkg:deb/debian/openssh-server@1:9.2p1-2~bpo12%2B1?arch=amd64"},
		{Package{Name: "x"}, "debian", "", "pkg:deb/debian/x"},
	}
	for _, tt := range tests {
		if got := PURL(tt.p, tt.distro, tt.release); got != tt.want {
			t.Errorf("PURL(%+v) = %s, want %s", tt.p, got, tt.want)
		}
	}
}

func TestSBOMOptionsValidate(t *testing.T) {
	for _, o := range []SBOMOptions{
		{Namespace: "https://x/y", Created: time.Unix(1, 0)},
		{Name: "n", Created: time.Unix(1, 0)},
		{Name: "n", Namespace: "https://x/y#frag", Created: time.Unix(1, 0)},
		{Name: "n", Namespace: "https://x/y"},
	} {
		if _, err := SBOM(nil, o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("SBOM(%+v) err = %v, want ErrInvalidOptions", o, err)
		}
	}
}
