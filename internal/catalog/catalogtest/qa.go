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

// qaTests are the conformance tests of RecordQA and LatestQA.
var qaTests = []struct {
	name string
	fn   func(t *testing.T, c catalog.Catalog)
}{
	{"QARoundTrip", testQARoundTrip},
	{"QALatest", testQALatest},
	{"QANotFound", testQANotFound},
	{"QAInvalidWritesNothing", testQAInvalidWritesNothing},
	{"QADeletedWithImage", testQADeletedWithImage},
	{"QAConcurrent", testQAConcurrent},
}

// SampleQA returns a fully populated QA result (not yet tied to an image)
// whose test time derives from n.
func SampleQA(n int) catalog.QAResult {
	return catalog.QAResult{
		Passed:    n%2 == 0,
		Accel:     "tcg",
		Firmwares: []string{"bios", "uefi"},
		BootToSSH: 41*time.Second + time.Duration(n)*time.Millisecond,
		TestedAt:  base.Add(time.Duration(n)*time.Hour + 123456789),
		Duration:  95 * time.Second,
		Boots: []catalog.QABoot{
			{Firmware: "bios", Passed: true, BootToSSH: 38 * time.Second},
			{Firmware: "uefi", Passed: true, BootToSSH: 41 * time.Second},
		},
		Checks: []catalog.QACheck{
			{Name: "hygiene/ssh-host-keys", Passed: true, Duration: time.Millisecond, Evidence: "no host keys"},
			{Name: "system-running", Firmware: "bios", Passed: true, Duration: 2 * time.Second, Evidence: "running"},
			{Name: "system-running", Firmware: "uefi", Passed: false, Duration: 3 * time.Second, Evidence: "degraded: foo.service"},
			{Name: "ssh-host-keys-unique", Skipped: true, Evidence: "needs two boots"},
		},
		Artifacts: []catalog.Artifact{
			{Kind: catalog.KindQAReport, Filename: "qa-report.json", Digest: "sha256:" + hex64(10+n), Size: 4096},
			{Kind: catalog.KindConsole, Filename: "console-bios.log", Digest: "sha256:" + hex64(20+n), Size: 65536},
		},
	}
}

// NormalizeQA applies the round-trip contract of catalog.QAResult.
func NormalizeQA(q catalog.QAResult) catalog.QAResult {
	q.TestedAt = q.TestedAt.UTC().Truncate(time.Microsecond)
	q.Firmwares = nilIfEmpty(q.Firmwares)
	q.Boots = nilIfEmpty(q.Boots)
	q.Checks = nilIfEmpty(q.Checks)
	q.Artifacts = nilIfEmpty(q.Artifacts)
	return q
}

func checkQAEqual(t *testing.T, got, want catalog.QAResult) {
	t.Helper()
	if !reflect.DeepEqual(NormalizeQA(got), NormalizeQA(want)) {
		t.Errorf("QA result differs after round trip\n got: %+v\nwant: %+v", NormalizeQA(got), NormalizeQA(want))
	}
}

func record(t *testing.T, c catalog.Catalog, image string, q catalog.QAResult) {
	t.Helper()
	if err := c.RecordQA(context.Background(), image, q); err != nil {
		t.Fatalf("RecordQA(%s): %v", image, err)
	}
}

func latest(t *testing.T, c catalog.Catalog, image string) catalog.QAResult {
	t.Helper()
	q, err := c.LatestQA(context.Background(), image)
	if err != nil {
		t.Fatalf("LatestQA(%s): %v", image, err)
	}
	return q
}

func testQARoundTrip(t *testing.T, c catalog.Catalog) {
	img := Sample(1)
	add(t, c, img)
	want := SampleQA(1)
	record(t, c, img.Name, want)
	want.Image = img.Name
	got := latest(t, c, img.Name)
	checkQAEqual(t, got, want)
	if got.TestedAt.Location() != time.UTC {
		t.Errorf("TestedAt location = %v, want UTC", got.TestedAt.Location())
	}
	minimal := catalog.QAResult{Image: img.Name, TestedAt: base.Add(99 * time.Hour)}
	record(t, c, img.Name, minimal)
	checkQAEqual(t, latest(t, c, img.Name), minimal)
	checkEqual(t, get(t, c, img.Name), img) // the image itself is unchanged
}

func testQALatest(t *testing.T, c catalog.Catalog) {
	a, b := Sample(1), Sample(2)
	add(t, c, a)
	add(t, c, b)
	newer, older := SampleQA(5), SampleQA(3)
	record(t, c, a.Name, newer)
	record(t, c, a.Name, older) // recorded last, but tested earlier
	if got := latest(t, c, a.Name); !got.TestedAt.Equal(NormalizeQA(newer).TestedAt) {
		t.Errorf("LatestQA tested at %v, want the newest test %v", got.TestedAt, newer.TestedAt)
	}
	first, second := SampleQA(7), SampleQA(7)
	first.Accel, second.Accel = "kvm", "tcg"
	record(t, c, b.Name, first)
	record(t, c, b.Name, second)
	if got := latest(t, c, b.Name); got.Accel != "tcg" {
		t.Errorf("of two results with the same time, LatestQA returned accel %s, want the last recorded (tcg)", got.Accel)
	}
	if got := latest(t, c, a.Name); got.Image != a.Name {
		t.Errorf("results of one image leak into another: %s", got.Image)
	}
}

func testQANotFound(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	if _, err := c.LatestQA(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("LatestQA(nope): error = %v, want ErrNotFound", err)
	}
	img := Sample(1)
	add(t, c, img)
	if _, err := c.LatestQA(ctx, img.Name); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("LatestQA of an untested image: error = %v, want ErrNotFound", err)
	}
	if err := c.RecordQA(ctx, "nope", SampleQA(1)); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("RecordQA(nope): error = %v, want ErrNotFound", err)
	}
}

func testQAInvalidWritesNothing(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	img := Sample(1)
	add(t, c, img)
	invalid := map[string]func(*catalog.QAResult){
		"no time":           func(q *catalog.QAResult) { q.TestedAt = time.Time{} },
		"unnamed check":     func(q *catalog.QAResult) { q.Checks[1].Name = "" },
		"repeated artifact": func(q *catalog.QAResult) { q.Artifacts[1].Filename = q.Artifacts[0].Filename },
		"another image":     func(q *catalog.QAResult) { q.Image = "other" },
		"unnamed artifact":  func(q *catalog.QAResult) { q.Artifacts[0].Filename = "" },
	}
	for name, spoil := range invalid {
		q := SampleQA(1)
		spoil(&q)
		if err := c.RecordQA(ctx, img.Name, q); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("RecordQA with %s: error = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := c.LatestQA(ctx, img.Name); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("after invalid RecordQA calls, LatestQA: error = %v, want ErrNotFound", err)
	}
}

func testQADeletedWithImage(t *testing.T, c catalog.Catalog) {
	ctx := context.Background()
	img := Sample(1)
	add(t, c, img)
	record(t, c, img.Name, SampleQA(1))
	if err := c.DeleteImage(ctx, img.Name); err != nil {
		t.Fatal(err)
	}
	add(t, c, img) // the same name again: a new image, never tested
	if _, err := c.LatestQA(ctx, img.Name); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("QA result survived DeleteImage: error = %v, want ErrNotFound", err)
	}
}

func testQAConcurrent(t *testing.T, c catalog.Catalog) {
	img := Sample(1)
	add(t, c, img)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = c.RecordQA(context.Background(), img.Name, SampleQA(i))
			if errs[i] == nil {
				_, errs[i] = c.LatestQA(context.Background(), img.Name)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	want := SampleQA(n - 1)
	want.Image = img.Name
	checkQAEqual(t, latest(t, c, img.Name), want)
}

func hex64(n int) string { return fmt.Sprintf("%064x", n) }
