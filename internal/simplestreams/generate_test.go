package simplestreams

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/release"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func digest(n int) string { return fmt.Sprintf("sha256:%064x", n) }

func testImage(product, ver, serial string, day int) catalog.Image {
	name := fmt.Sprintf("debian-bookworm.amd64-%s-%s", ver, serial)
	if product != "debian-cloud" {
		name = product + "-" + ver + "-" + serial
	}
	return catalog.Image{
		Name: name, Product: product, Version: ver, Serial: serial, Distro: "debian", Release: "bookworm", Arch: "amd64",
		CreatedAt: t0.AddDate(0, 0, day),
		Artifacts: []catalog.Artifact{
			{Kind: catalog.KindQcow2, Filename: name + ".qcow2", Digest: digest(day*10 + 1), Size: 1000 + int64(day)},
			{Kind: catalog.KindRaw, Filename: name + ".raw", Digest: digest(day*10 + 2), Size: 4096},
			{Kind: catalog.KindRootfsTar, Filename: name + ".rootfs.tar.zst", Digest: digest(day*10 + 3), Size: 500},
			{Kind: catalog.KindManifest, Filename: name + ".manifest.json", Digest: digest(day*10 + 4), Size: 300},
			{Kind: catalog.KindSBOM, Filename: name + ".sbom.spdx.json", Digest: digest(day*10 + 5), Size: 200},
		},
	}
}

// testStates is a product with every case: a stable version, an older
// line still supported, a hotfix that reached only its line channel, a
// revoked version that was stable, a rolling and a devel build, and a
// build no channel ever held.
func testStates() []release.State {
	imgs := []catalog.Image{
		testImage("debian-cloud", "2.1.0-rolling.1", "2026111012", 9),
		testImage("debian-cloud", "2.0.1", "2026110912", 8), // revoked
		testImage("debian-cloud", "devel.2026110812", "2026110812", 7),
		testImage("debian-cloud", "1.0.1", "2026110712", 6), // hotfix on stable-1.0
		testImage("debian-cloud", "2.0.0", "2026110512", 4),
		testImage("debian-cloud", "1.0.0", "2026110112", 0),
		testImage("debian-cloud", "1.9.9", "2026110212", 1), // never promoted
	}
	hist := []catalog.HistoryEntry{
		{Channel: "devel", Image: imgs[5].Name, At: t0.Add(time.Hour)},
		{Channel: "rolling", Image: imgs[5].Name, At: t0.Add(2 * time.Hour)},
		{Channel: "stable", Image: imgs[5].Name, At: t0.Add(3 * time.Hour)},
		{Channel: "stable-1.0", Image: imgs[5].Name, At: t0.Add(3 * time.Hour)},
		{Channel: "stable", Image: imgs[4].Name, At: t0.AddDate(0, 0, 5)},
		{Channel: "stable-2.0", Image: imgs[4].Name, At: t0.AddDate(0, 0, 5)},
		{Channel: "stable-1.0", Image: imgs[3].Name, At: t0.AddDate(0, 0, 7)},
		{Channel: "devel", Image: imgs[2].Name, At: t0.AddDate(0, 0, 7)},
		{Channel: "stable", Image: imgs[1].Name, At: t0.AddDate(0, 0, 9)},
		{Channel: "stable", Image: imgs[4].Name, At: t0.AddDate(0, 0, 9).Add(time.Hour)},
		{Channel: "rolling", Image: imgs[0].Name, At: t0.AddDate(0, 0, 10)},
	}
	s := release.State{
		Product: "debian-cloud", Policy: release.PolicyOf(&recipe.Recipe{}), Images: imgs, History: hist,
		Marks: map[string]catalog.Marks{imgs[1].Name: {Revoked: true, RevokedAt: t0.AddDate(0, 0, 9).Add(time.Hour)}},
		Heads: map[string]catalog.ChannelHead{},
	}
	for _, h := range hist {
		s.Heads[h.Channel] = catalog.ChannelHead{Product: s.Product, Channel: h.Channel, Image: h.Image, Since: h.At}
	}
	arm := testImage("tiny", "0.1.0", "2026110312", 2)
	arm.Arch, arm.Release = "arm64", "trixie"
	arm.Artifacts = arm.Artifacts[:1]
	s2 := release.State{
		Product: "tiny", Policy: release.PolicyOf(&recipe.Recipe{}), Images: []catalog.Image{arm},
		History: []catalog.HistoryEntry{{Channel: "devel", Image: arm.Name, At: t0.AddDate(0, 0, 2)}},
	}
	return []release.State{s, s2}
}

func testOptions() Options {
	o := DefaultOptions()
	o.Now = t0.AddDate(2, 0, 0)
	o.Expires = t0.AddDate(0, 0, 17)
	return o
}

// goldenName maps a mirror path to a file name a Go module may hold.
func goldenName(p string) string { return strings.ReplaceAll(filepath.Base(p), ":", "_") }

func TestGenerateGolden(t *testing.T) {
	tree, err := Generate(testStates(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]any{IndexPath: tree.Index}
	for p, prods := range tree.Products {
		docs[p] = prods
	}
	for p, doc := range docs {
		got, err := Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", goldenName(p))
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test -update and review the diff):\n%s", p, golden, got)
		}
	}
}

func TestGenerateRules(t *testing.T) {
	tree, err := Generate(testStates(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	prod := "org.example.bakery:debian-cloud:bookworm:amd64"
	serials := func(stream string) string {
		p := tree.Products[ProductsPath("org.example.bakery:"+stream+":download")]
		return strings.Join(sortedKeys(p.Products[prod].Versions), " ")
	}
	for stream, want := range map[string]string{
		"released": "2026110112 2026110512 2026110712", // 1.0.0, 2.0.0, hotfix 1.0.1; not the revoked 2.0.1
		"rolling":  "2026110112 2026111012",
		"daily":    "2026110112 2026110812",
	} {
		if got := serials(stream); got != want {
			t.Errorf("%s: serials %q, want %q", stream, got, want)
		}
	}
	rel := tree.Products[ProductsPath("org.example.bakery:released:download")].Products[prod]
	if eol := rel.Versions["2026110112"].SupportEOL; eol != "2027-11-06" {
		t.Errorf("1.0 line support_eol %q, want 2027-11-06 (12 months after 2.0 reached stable)", eol)
	}
	if eol := rel.Versions["2026110512"].SupportEOL; eol != "" {
		t.Errorf("newest line support_eol %q, want none", eol)
	}
	again, _ := Generate(testStates(), testOptions())
	a, _ := Marshal(tree.Products)
	b, _ := Marshal(again.Products)
	if !bytes.Equal(a, b) {
		t.Error("generation is not deterministic")
	}
}

func TestGenerateRejects(t *testing.T) {
	bad := testStates()
	bad[1].Images[0].Artifacts[0].Filename = "../../etc/passwd"
	if _, err := Generate(bad, testOptions()); err == nil {
		t.Error("an artifact file name leaving its directory was accepted")
	}
	bad = testStates()
	bad[1].Images[0].Artifacts[0].Digest = "md5:x"
	if _, err := Generate(bad, testOptions()); err == nil {
		t.Error("a malformed digest was accepted")
	}
	for _, o := range []Options{
		{ContentIDPrefix: "", ImagesDir: "images"},
		{ContentIDPrefix: "a b", ImagesDir: "images"},
		{ContentIDPrefix: "x", ImagesDir: "../images"},
		{ContentIDPrefix: "x", ImagesDir: "streams/v1"},
		{ContentIDPrefix: "x", ImagesDir: "images", Streams: []StreamRule{{Name: "a"}, {Name: "a"}}},
	} {
		if _, err := Generate(nil, o); !errors.Is(err, ErrOptions) {
			t.Errorf("options %+v: err %v, want ErrOptions", o, err)
		}
	}
}
