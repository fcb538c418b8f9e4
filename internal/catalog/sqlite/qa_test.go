package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
)

var qaTables = []string{"qa_runs", "qa_boots", "qa_checks", "qa_artifacts"}

func TestRecordQAIsAtomic(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := context.Background()
	img := catalogtest.Sample(1)
	if err := db.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	// Make the last child insert fail, after the run, its boots and checks.
	if _, err := db.db.ExecContext(ctx, `CREATE TRIGGER boom BEFORE INSERT ON qa_artifacts
		WHEN NEW.filename = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`); err != nil {
		t.Fatal(err)
	}
	q := catalogtest.SampleQA(1)
	q.Artifacts = append(q.Artifacts, catalog.Artifact{Kind: catalog.KindConsole, Filename: "boom"})
	if err := db.RecordQA(ctx, img.Name, q); err == nil {
		t.Fatal("RecordQA succeeded despite a failing insert")
	}
	for _, table := range qaTables {
		if n := count(t, db, table); n != 0 {
			t.Errorf("%s has %d rows after a failed RecordQA, want 0", table, n)
		}
	}
	if _, err := db.LatestQA(ctx, img.Name); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("LatestQA after a failed RecordQA: %v, want ErrNotFound", err)
	}
}

func TestDeleteImageCascadesToQA(t *testing.T) {
	db := openTemp(t)
	defer db.Close()
	ctx := context.Background()
	img := catalogtest.Sample(1)
	if err := db.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := db.RecordQA(ctx, img.Name, catalogtest.SampleQA(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, "qa_checks"); n != 2*len(catalogtest.SampleQA(0).Checks) {
		t.Fatalf("qa_checks has %d rows", n)
	}
	if err := db.DeleteImage(ctx, img.Name); err != nil {
		t.Fatal(err)
	}
	for _, table := range qaTables {
		if n := count(t, db, table); n != 0 {
			t.Errorf("%s has %d rows after DeleteImage, want 0", table, n)
		}
	}
}

// TestLatestQAs: the bulk read gives what LatestQA gives for each image.
func TestLatestQAs(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 4 {
		img := catalogtest.Sample(i)
		if err := db.AddImage(ctx, img); err != nil {
			t.Fatal(err)
		}
		for j := range i { // image 0 untested; later images tested i times
			q := catalogtest.SampleQA(i*10 + j)
			q.Artifacts = q.Artifacts[:j%3]
			if err := db.RecordQA(ctx, img.Name, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := db.LatestQAs(ctx, "debian-cloud")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d results, want 3 (one untested image)", len(got))
	}
	for i := 1; i < 4; i++ {
		name := catalogtest.Sample(i).Name
		want, err := db.LatestQA(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[name], want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got[name], want)
		}
	}
}
