package simplestreams

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixture is a copied reference mirror: its documents live in dir under
// the names the index gives after streams/v1/ (or streams/), with ':'
// replaced by '_'.
type fixture struct{ dir, strip string }

func (f fixture) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	name, ok := strings.CutPrefix(p, f.strip)
	if !ok {
		return nil, ErrNotFound
	}
	return Dir(f.dir).Open(ctx, strings.ReplaceAll(name, ":", "_"))
}

var fixtures = map[string]fixture{
	"cirros":   {dir: "testdata/fixtures/cirros/v1", strip: "streams/v1/"},
	"foocloud": {dir: "testdata/fixtures/foocloud", strip: "streams/v1/"},
	"minimal":  {dir: "testdata/fixtures/minimal", strip: "streams/v1/"},
}

func TestParseFixtures(t *testing.T) {
	type count struct{ streams, products, versions, items int }
	want := map[string]count{
		"cirros":   {2, 6, 15, 55},
		"foocloud": {2, 4, 13, 33},
		"minimal":  {1, 1, 1, 2},
	}
	for name, fx := range fixtures {
		t.Run(name, func(t *testing.T) {
			c := &Client{Source: fx}
			idx, err := c.Index(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := count{streams: len(idx.Index)}
			for _, e := range idx.Index {
				p, err := c.Products(context.Background(), e)
				if err != nil {
					t.Fatal(err)
				}
				if p.ContentID == "" || p.Datatype != e.Datatype || len(p.Products) != len(e.Products) {
					t.Errorf("%s: content_id %q datatype %q/%q, %d products, index lists %d", e.Path, p.ContentID, p.Datatype, e.Datatype, len(p.Products), len(e.Products))
				}
				for _, prod := range p.Products {
					got.products++
					for _, v := range prod.Versions {
						got.versions++
						got.items += len(v.Items)
					}
				}
			}
			if got != want[name] {
				t.Errorf("counted %+v, want %+v", got, want[name])
			}
		})
	}
}

func TestParseFixtureFields(t *testing.T) {
	data, err := os.ReadFile("testdata/fixtures/cirros/v1/net.cirros-cloud_released_download.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProducts(data)
	if err != nil {
		t.Fatal(err)
	}
	prod := p.Products["net.cirros-cloud:standard:0.3:i386"]
	v := prod.Versions["20111020"]
	it := v.Items["disk.img"]
	if prod.Arch != "i386" || prod.Stream != "released" || v.Version != "0.3.0" || v.Pubname != "cirros-0.3.0-i386" ||
		it.FType != "disk.img" || it.Path != "0.3.0/cirros-0.3.0-i386-disk.img" || it.Size != 9159168 ||
		it.SHA256 != "3309675d0d409128b1c2651d576bc8092ca9ab93e15f3d3aa458f40947569b61" || it.MD5 != "90169ba6f09b5906a7f0755bd00bf2c3" {
		t.Errorf("cirros 0.3.0 i386: %+v %+v %+v", prod, v, it)
	}
	data, _ = os.ReadFile("testdata/fixtures/foocloud/com.example.foovendor_released_aws.json")
	aws, err := ParseProducts(data)
	if err != nil {
		t.Fatal(err)
	}
	ap := aws.Products["com.example.foovendor:pinky:server:amd64"]
	if ap.Region != "us-east-1" || ap.Release != "pinky" || ap.Versions["20121026.1"].Items["usee1pe"].ID != "ami-e720ad8e" || ap.Versions["20121026.1"].Label != "release" {
		t.Errorf("foocloud aws: %+v", ap)
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":           `{`,
		"index format":       `{"format":"products:1.0","index":{}}`,
		"index path escapes": `{"format":"index:1.0","index":{"a":{"path":"../x.json"}}}`,
		"index path abs":     `{"format":"index:1.0","index":{"a":{"path":"/etc/x.json"}}}`,
		"index no path":      `{"format":"index:1.0","index":{"a":{"datatype":"image-downloads"}}}`,
	} {
		if _, err := ParseIndex([]byte(doc)); !errors.Is(err, ErrFormat) {
			t.Errorf("index %s: err %v, want ErrFormat", name, err)
		}
	}
	for name, doc := range map[string]string{
		"products format": `{"format":"index:1.0"}`,
		"item path":       `{"format":"products:1.0","products":{"p":{"versions":{"1":{"items":{"i":{"path":"a/../../b"}}}}}}}`,
		"sha256":          `{"format":"products:1.0","products":{"p":{"versions":{"1":{"items":{"i":{"path":"a","sha256":"XYZ"}}}}}}}`,
		"size":            `{"format":"products:1.0","products":{"p":{"versions":{"1":{"items":{"i":{"path":"a","size":-1}}}}}}}`,
		"size type":       `{"format":"products:1.0","products":{"p":{"versions":{"1":{"items":{"i":{"size":"big"}}}}}}}`,
	} {
		if _, err := ParseProducts([]byte(doc)); !errors.Is(err, ErrFormat) {
			t.Errorf("products %s: err %v, want ErrFormat", name, err)
		}
	}
}

// TestOwnDocumentsRoundTrip parses what Generate produces back to the same
// values.
func TestOwnDocumentsRoundTrip(t *testing.T) {
	tree, err := Generate(testStates(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := Marshal(tree.Index)
	idx, err := ParseIndex(data)
	if err != nil || !reflect.DeepEqual(idx, tree.Index) {
		t.Fatalf("index round trip: %v\n%+v\n%+v", err, idx, tree.Index)
	}
	for p, prods := range tree.Products {
		data, _ := Marshal(prods)
		got, err := ParseProducts(data)
		if err != nil || !reflect.DeepEqual(got, prods) {
			t.Errorf("%s round trip: %v", p, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, fx := range fixtures {
		entries, _ := os.ReadDir(fx.dir)
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(fx.dir, e.Name()))
			if err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"format":"products:1.0","products":{"p":{"versions":{"1":{"items":{"i":{"path":"a","size":1}}}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if idx, err := ParseIndex(data); err == nil {
			out, err := Marshal(idx)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseIndex(out)
			if err != nil || !reflect.DeepEqual(again, idx) {
				t.Fatalf("index does not survive a round trip: %v", err)
			}
		}
		if p, err := ParseProducts(data); err == nil {
			out, err := Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseProducts(out)
			if err != nil || !reflect.DeepEqual(again, p) {
				t.Fatalf("products do not survive a round trip: %v", err)
			}
		}
	})
}
