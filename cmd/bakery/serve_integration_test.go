package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/pgpkey"
	"github.com/bakery-dev/bakery/internal/server"
)

// TestIntegrationServeRealBuild serves the image the example recipe built
// (the suite's shared build) and downloads every item over HTTP, checking
// sha256 and size: the qcow2, the raw disk, the rootfs tarball, the
// manifest and the SBOM. The image is copied into a catalog of its own
// and put on devel there, so the shared state directory is not changed.
func TestIntegrationServeRealBuild(t *testing.T) {
	s := sharedLocked(t)
	ctx := context.Background()
	shared, err := sqlite.Open(ctx, filepath.Join(s.state, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := shared.GetImage(ctx, s.b.Image.Name)
	shared.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if err := cat.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	ev := catalog.Event{Product: img.Product, Action: catalog.ActionPromote, Image: img.Name, Version: img.Version,
		Channel: "devel", Actor: "test", At: time.Now()}
	if _, err := cat.ApplyChange(ctx, catalog.Change{Event: ev, Moves: []catalog.Move{{Channel: "devel", To: img.Name}}}); err != nil {
		t.Fatal(err)
	}
	store, err := fsstore.New(filepath.Join(s.state, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pgpkey.Create(filepath.Join(dir, "keys"), streamsKeySpec)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := key.ArmoredPublic()
	ring, _ := pgpkey.ReadKeyring(pub)
	opt := server.DefaultOptions()
	opt.Catalog, opt.Store, opt.Key = cat, store, key
	srv, err := server.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	base, _ := url.Parse(hs.URL)
	if n := verifyServed(t, base, ring); n != len(img.Artifacts) {
		t.Errorf("verified %d items, the image has %d artifacts", n, len(img.Artifacts))
	}
}
