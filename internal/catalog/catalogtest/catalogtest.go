// Package catalogtest is the conformance suite every catalog backend must
// pass. A backend's test calls Run with a function that opens a new, empty
// catalog; the suite closes it.
package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// Run runs the conformance suite.
func Run(t *testing.T, open func(t *testing.T) catalog.Catalog) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c catalog.Catalog)
	}{
		{"RoundTrip", testRoundTrip},
		{"RoundTripMinimal", testRoundTripMinimal},
		{"DuplicateName", testDuplicateName},
		{"DuplicateSerial", testDuplicateSerial},
		{"InvalidWritesNothing", testInvalidWritesNothing},
		{"NotFound", testNotFound},
		{"ListOrder", testListOrder},
		{"ListProductAndLimit", testListProductAndLimit},
		{"ListBuildID", testListBuildID},
		{"SerialsWithPrefix", testSerialsWithPrefix},
		{"Delete", testDelete},
		{"ConcurrentAddSameName", testConcurrentAddSameName},
		{"ConcurrentAddDistinct", testConcurrentAddDistinct},
	}
	tests = append(tests, qaTests...)
	tests = append(tests, releaseTests...)
	tests = append(tests, outboxTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t)
			t.Cleanup(func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, c)
		})
	}
}

var base = time.Date(2026, 11, 21, 14, 5, 6, 123456000, time.UTC)

// Sample returns a fully populated image of product "debian-cloud" whose
// serial and creation time derive from n.
func Sample(n int) catalog.Image {
	created := base.Add(time.Duration(n) * time.Hour)
	serial := created.Format(catalog.SerialLayout)
	return catalog.Image{
		Name:          fmt.Sprintf("debian-cloud.amd64-0.1.%d-%s", n, serial),
		Product:       "debian-cloud",
		Version:       fmt.Sprintf("0.1.%d", n),
		Serial:        serial,
		Distro:        "debian",
		Release:       "bookworm",
		Arch:          "amd64",
		BuildID:       "sha256:" + fmt.Sprintf("%064x", n+1),
		RecipeDigest:  "sha256:" + fmt.Sprintf("%064x", n+1000),
		Recipe:        []byte("product: debian-cloud\ndistro: debian\nrelease: bookworm\n"),
		CreatedAt:     created,
		BuildDuration: 7*time.Minute + 300*time.Millisecond,
		Artifacts: []catalog.Artifact{
			{Kind: catalog.KindQcow2, Filename: "disk.qcow2", Digest: "sha256:" + fmt.Sprintf("%064x", 7), Size: 512 << 20},
			{Kind: catalog.KindManifest, Filename: "manifest.json", Digest: "sha256:" + fmt.Sprintf("%064x", 8), Size: 2048},
			{Kind: catalog.KindRaw, Filename: "disk.raw", Digest: "sha256:" + fmt.Sprintf("%064x", 9), Size: 2 << 30},
		},
		Packages: []catalog.Package{
			{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Arch: "amd64"},
			{Name: "bash", Version: "5.2.15-2+b7", Arch: "amd64"},
			{Name: "libc6", Version: "2.36-9+deb12u9", Arch: "amd64"},
			{Name: "libc6", Version: "2.36-9+deb12u9", Arch: "i386"},
		},
		Hygiene: []catalog.Check{
			{Name: "ssh-host-keys", Passed: true, Detail: "no host keys"},
			{Name: "machine-id", Passed: false, Detail: "machine-id is set", Found: []string{"/etc/machine-id"}},
			{Name: "secrets", Passed: true, Found: []string{}},
		},
		Tools: map[string]string{"mmdebstrap": "1.3.5", "qemu-img": "7.2.15"},
	}
}

func add(t *testing.T, c catalog.Catalog, img catalog.Image) {
	t.Helper()
	if err := c.AddImage(context.Background(), img); err != nil {
		t.Fatalf("AddImage(%s): %v", img.Name, err)
	}
}

func get(t *testing.T, c catalog.Catalog, name string) catalog.Image {
	t.Helper()
	img, err := c.GetImage(context.Background(), name)
	if err != nil {
		t.Fatalf("GetImage(%s): %v", name, err)
	}
	return img
}

// Normalize applies the round-trip contract of catalog.Image: UTC time
// truncated to the microsecond, empty slices and maps as nil.
func Normalize(img catalog.Image) catalog.Image {
	img.CreatedAt = img.CreatedAt.UTC().Truncate(time.Microsecond)
	img.Recipe = nilIfEmpty(img.Recipe)
	img.Artifacts = nilIfEmpty(img.Artifacts)
	img.Packages = nilIfEmpty(img.Packages)
	if len(img.Tools) == 0 {
		img.Tools = nil
	}
	var checks []catalog.Check
	for _, c := range img.Hygiene {
		c.Found = nilIfEmpty(c.Found)
		checks = append(checks, c)
	}
	img.Hygiene = checks
	return img
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Equal reports whether two images are equal under the round-trip contract.
func Equal(a, b catalog.Image) bool {
	return reflect.DeepEqual(Normalize(a), Normalize(b))
}

func checkEqual(t *testing.T, got, want catalog.Image) {
	t.Helper()
	if !Equal(got, want) {
		t.Errorf("image differs after round trip\n got: %+v\nwant: %+v", Normalize(got), Normalize(want))
	}
}

func testRoundTrip(t *testing.T, c catalog.Catalog) {
	want := Sample(1)
	add(t, c, want)
	got := get(t, c, want.Name)
	checkEqual(t, got, want)
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
	// Non-UTC input and sub-microsecond precision.
	local := Sample(2)
	local.CreatedAt = time.Date(2026, 11, 22, 1, 2, 3, 456789999, time.FixedZone("X", -5*3600))
	add(t, c, local)
	got = get(t, c, local.Name)
	if want := time.Date(2026, 11, 22, 6, 2, 3, 456789000, time.UTC); !got.CreatedAt.Equal(want) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
	}
	checkEqual(t, got, local)
}

func testRoundTripMinimal(t *testing.T, c catalog.Catalog) {
	want := catalog.Image{Name: "minimal", Product: "p", Serial: "2026010100", CreatedAt: base}
	add(t, c, want)
	checkEqual(t, get(t, c, want.Name), want)
}

func testDuplicateName(t *testing.T, c catalog.Catalog) {
	first := Sample(1)
	add(t, c, first)
	dup := Sample(2)
	dup.Name = first.Name
	err := c.AddImage(context.Background(), dup)
	if !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("AddImage with taken name: error = %v, want ErrConflict", err)
	}
	checkEqual(t, get(t, c, first.Name), first)
	checkSerials(t, c, "debian-cloud", "", []string{first.Serial})
}

func testDuplicateSerial(t *testing.T, c catalog.Catalog) {
	first := Sample(1)
	add(t, c, first)
	dup := Sample(2)
	dup.Serial = first.Serial
	err := c.AddImage(context.Background(), dup)
	if !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("AddImage with taken product+serial: error = %v, want ErrConflict", err)
	}
	checkAbsent(t, c, dup.Name)
	checkEqual(t, get(t, c, first.Name), first)
	// The same serial in another product is fine.
	other := dup
	other.Product = "debian-minimal"
	add(t, c, other)
	checkEqual(t, get(t, c, other.Name), other)
}

func testInvalidWritesNothing(t *testing.T, c catalog.Catalog) {
	img := Sample(1)
	img.Packages = append(img.Packages, img.Packages[0])
	if err := c.AddImage(context.Background(), img); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("AddImage with repeated package: error = %v, want ErrInvalid", err)
	}
	checkAbsent(t, c, img.Name)
	noSerial := Sample(2)
	noSerial.Serial = ""
	if err := c.AddImage(context.Background(), noSerial); !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("AddImage without serial: error = %v, want ErrInvalid", err)
	}
	if imgs := list(t, c, catalog.ListOptions{}); len(imgs) != 0 {
		t.Errorf("catalog holds %d images after invalid adds, want 0", len(imgs))
	}
}

func checkAbsent(t *testing.T, c catalog.Catalog, name string) {
	t.Helper()
	if _, err := c.GetImage(context.Background(), name); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("GetImage(%s): error = %v, want ErrNotFound", name, err)
	}
}

func testNotFound(t *testing.T, c catalog.Catalog) {
	checkAbsent(t, c, "nope")
	if err := c.DeleteImage(context.Background(), "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("DeleteImage(nope): error = %v, want ErrNotFound", err)
	}
}

func list(t *testing.T, c catalog.Catalog, opt catalog.ListOptions) []catalog.Image {
	t.Helper()
	imgs, err := c.ListImages(context.Background(), opt)
	if err != nil {
		t.Fatalf("ListImages(%+v): %v", opt, err)
	}
	return imgs
}

func names(imgs []catalog.Image) []string {
	var out []string
	for _, img := range imgs {
		out = append(out, img.Name)
	}
	return out
}

func testListOrder(t *testing.T, c catalog.Catalog) {
	if imgs := list(t, c, catalog.ListOptions{}); len(imgs) != 0 {
		t.Errorf("empty catalog lists %v", names(imgs))
	}
	a, b, mid, old := Sample(3), Sample(3), Sample(2), Sample(1)
	a.Name, b.Name = "b-same-time", "a-same-time"
	b.Serial = a.Serial + ".1"
	for _, img := range []catalog.Image{mid, a, old, b} {
		add(t, c, img)
	}
	got := list(t, c, catalog.ListOptions{})
	want := []string{b.Name, a.Name, mid.Name, old.Name}
	if !reflect.DeepEqual(names(got), want) {
		t.Fatalf("ListImages order = %v, want %v", names(got), want)
	}
	checkEqual(t, got[2], mid) // full data, not a summary
}

func testListProductAndLimit(t *testing.T, c catalog.Catalog) {
	var cloud, minimal []string
	for i := range 6 {
		img := Sample(i)
		if i%2 == 1 {
			img.Product = "debian-minimal"
			img.Name = "minimal-" + img.Name
			minimal = append([]string{img.Name}, minimal...)
		} else {
			cloud = append([]string{img.Name}, cloud...)
		}
		add(t, c, img)
	}
	tests := []struct {
		opt  catalog.ListOptions
		want []string
	}{
		{catalog.ListOptions{Product: "debian-minimal"}, minimal},
		{catalog.ListOptions{Product: "debian-cloud"}, cloud},
		{catalog.ListOptions{Product: "debian-cloud", Limit: 2}, cloud[:2]},
		{catalog.ListOptions{Limit: 1}, minimal[:1]},
		{catalog.ListOptions{Product: "nope"}, nil},
	}
	for _, tt := range tests {
		if got := names(list(t, c, tt.opt)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ListImages(%+v) = %v, want %v", tt.opt, got, tt.want)
		}
	}
}

// testListBuildID: images with one build ID (a rebuild of one lock under
// another name), newest first, combined with the other filters.
func testListBuildID(t *testing.T, c catalog.Catalog) {
	shared := "sha256:" + fmt.Sprintf("%064x", 4242)
	var want []string
	for i := range 5 {
		img := Sample(i)
		if i%2 == 0 {
			img.BuildID = shared
			want = append([]string{img.Name}, want...)
		}
		add(t, c, img)
	}
	tests := []struct {
		opt  catalog.ListOptions
		want []string
	}{
		{catalog.ListOptions{BuildID: shared}, want},
		{catalog.ListOptions{BuildID: shared, Limit: 1}, want[:1]},
		{catalog.ListOptions{BuildID: shared, Product: "debian-minimal"}, nil},
		{catalog.ListOptions{BuildID: Sample(1).BuildID}, []string{Sample(1).Name}},
		{catalog.ListOptions{BuildID: "sha256:" + fmt.Sprintf("%064x", 99)}, nil},
	}
	for _, tt := range tests {
		got := list(t, c, tt.opt)
		if !reflect.DeepEqual(names(got), tt.want) {
			t.Errorf("ListImages(%+v) = %v, want %v", tt.opt, names(got), tt.want)
		}
		for _, img := range got {
			if len(img.Artifacts) == 0 {
				t.Errorf("ListImages(%+v): %s without its artifacts", tt.opt, img.Name)
			}
		}
	}
}

func checkSerials(t *testing.T, c catalog.Catalog, product, prefix string, want []string) {
	t.Helper()
	got, err := c.SerialsWithPrefix(context.Background(), product, prefix)
	if err != nil {
		t.Fatalf("SerialsWithPrefix(%s, %s): %v", product, prefix, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SerialsWithPrefix(%q, %q) = %v, want %v", product, prefix, got, want)
	}
}

func testSerialsWithPrefix(t *testing.T, c catalog.Catalog) {
	for i, serial := range []string{"2026112114", "2026112114.1", "2026112114.2", "2026112115", "2026112014"} {
		img := Sample(i)
		img.Serial = serial
		add(t, c, img)
	}
	other := Sample(9)
	other.Product, other.Serial = "debian-minimal", "2026112114.7"
	add(t, c, other)
	checkSerials(t, c, "debian-cloud", "2026112114", []string{"2026112114", "2026112114.1", "2026112114.2"})
	checkSerials(t, c, "debian-cloud", "20261121", []string{"2026112114", "2026112114.1", "2026112114.2", "2026112115"})
	checkSerials(t, c, "debian-minimal", "2026112114", []string{"2026112114.7"})
	checkSerials(t, c, "debian-cloud", "2026112116", nil)
	checkSerials(t, c, "debian-cloud", "2026_1121%", nil) // no wildcards
	checkSerials(t, c, "nope", "", nil)
	used, err := c.SerialsWithPrefix(context.Background(), "debian-cloud", "2026112114")
	if err != nil {
		t.Fatal(err)
	}
	if got := catalog.NextSerial(time.Date(2026, 11, 21, 14, 30, 0, 0, time.UTC), used); got != "2026112114.3" {
		t.Errorf("NextSerial after the catalog's serials = %s, want 2026112114.3", got)
	}
}

func testDelete(t *testing.T, c catalog.Catalog) {
	keep, gone := Sample(1), Sample(2)
	add(t, c, keep)
	add(t, c, gone)
	if err := c.DeleteImage(context.Background(), gone.Name); err != nil {
		t.Fatalf("DeleteImage: %v", err)
	}
	checkAbsent(t, c, gone.Name)
	if err := c.DeleteImage(context.Background(), gone.Name); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("second DeleteImage: error = %v, want ErrNotFound", err)
	}
	checkEqual(t, get(t, c, keep.Name), keep)
	// Name, serial and child records are free again.
	add(t, c, gone)
	checkEqual(t, get(t, c, gone.Name), gone)
}

func testConcurrentAddSameName(t *testing.T, c catalog.Catalog) {
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			img := Sample(i)
			img.Name = "contested"
			errs[i] = c.AddImage(context.Background(), img)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("AddImage #%d and #%d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, catalog.ErrConflict):
			t.Errorf("AddImage #%d: error = %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no AddImage succeeded")
	}
	want := Sample(winner)
	want.Name = "contested"
	checkEqual(t, get(t, c, "contested"), want)
	if imgs := list(t, c, catalog.ListOptions{}); len(imgs) != 1 {
		t.Errorf("catalog holds %d images, want 1", len(imgs))
	}
}

func testConcurrentAddDistinct(t *testing.T, c catalog.Catalog) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = c.AddImage(context.Background(), Sample(i))
			if errs[i] == nil {
				_, errs[i] = c.ListImages(context.Background(), catalog.ListOptions{Limit: 3})
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if imgs := list(t, c, catalog.ListOptions{}); len(imgs) != n {
		t.Errorf("catalog holds %d images, want %d", len(imgs), n)
	}
}
