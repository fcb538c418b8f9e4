package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/catalogtest"
)

func TestGenerationChanges(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := map[string]bool{}
	step := func(what string) {
		t.Helper()
		g, err := db.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[g] {
			t.Errorf("after %s: generation %q seen before", what, g)
		}
		seen[g] = true
	}
	step("open")
	a, b := catalogtest.Sample(1), catalogtest.Sample(2)
	if err := db.AddImage(ctx, a); err != nil {
		t.Fatal(err)
	}
	step("add")
	if err := db.AddImage(ctx, b); err != nil {
		t.Fatal(err)
	}
	step("add")
	if err := db.RecordQA(ctx, b.Name, catalogtest.SampleQA(0)); err != nil {
		t.Fatal(err)
	}
	step("qa")
	if err := db.DeleteImage(ctx, a.Name); err != nil {
		t.Fatal(err)
	}
	step("delete")
	ev := catalog.Event{Product: b.Product, Action: catalog.ActionPromote, Image: b.Name, Actor: "t", At: time.Now()}
	if _, err := db.ApplyChange(ctx, catalog.Change{Event: ev, Moves: []catalog.Move{{Channel: "devel", To: b.Name}}}); err != nil {
		t.Fatal(err)
	}
	step("promote")
}
