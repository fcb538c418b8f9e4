package api

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/lock"
)

// TestChangelogFromLocks: with both images' locks stored, the changelog
// comes from them, with the config tree's commits.
func TestChangelogFromLocks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, true)
	store, err := fsstore.New(filepath.Join(t.TempDir(), "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	lockOf := func(bash, commit string) catalog.Artifact {
		cfg, _ := json.Marshal(configtree.Lock{Repo: "https://git.example/puppet", Ref: "v1", Commit: commit, Modules: []configtree.LockedModule{}})
		l := &lock.Lock{Format: lock.Format, Suites: []lock.Suite{{Name: "bookworm"}}, Config: cfg, Elements: json.RawMessage("{}"),
			Packages: []lock.Package{{Name: "bash", Version: bash, Architecture: "amd64", SHA256: strings.Repeat("a", 64), Filename: "pool/b.deb", Suite: "bookworm"}}}
		data, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, _, _ := artifact.Digest(bytes.NewReader(data))
		if err := store.Put(ctx, d, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		return catalog.Artifact{Kind: catalog.KindLock, Filename: "x.lock.json", Digest: d, Size: int64(len(data))}
	}
	for i, v := range []struct{ bash, commit string }{{"5.1-1", "aaaa111"}, {"5.2-1", "bbbb222"}} {
		img, err := f.db.GetImage(ctx, f.names[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := f.db.DeleteImage(ctx, img.Name); err != nil {
			t.Fatal(err)
		}
		img.Artifacts = append(img.Artifacts, lockOf(v.bash, v.commit))
		if err := f.db.AddImage(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	local := &Local{Catalog: f.db, Store: store}
	c, err := local.Changelog(ctx, "debian-cloud", "1.0.0", "1.1.0")
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != "lock" || len(c.Packages.Upgraded) != 1 || c.Packages.Upgraded[0].To != "5.2-1" {
		t.Errorf("changelog %+v", c)
	}
	if c.Config == nil || c.Config.FromCommit != "aaaa111" || c.Config.ToCommit != "bbbb222" {
		t.Errorf("config change %+v", c.Config)
	}
}
