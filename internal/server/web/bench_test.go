package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// largeFixture is one product with n versions (1.M.P, ten patches per
// minor), 200 packages each, every version on devel, every fifth on
// rolling, every twentieth on stable and its line; every 50th a security
// release, every 97th revoked.
func largeFixture(b testing.TB, n int) (*fixture, []catalog.Image) {
	f := newFixture(b)
	ctx := context.Background()
	var imgs []catalog.Image
	heads := map[string]string{}
	move := func(img catalog.Image, at time.Time, marks []catalog.Mark, channels ...string) {
		var moves []catalog.Move
		for _, ch := range channels {
			moves = append(moves, catalog.Move{Channel: ch, From: heads[ch], To: img.Name})
			heads[ch] = img.Name
		}
		action := catalog.ActionPromote
		if len(moves) == 0 {
			action = catalog.ActionSecurityRelease
		}
		ev := catalog.Event{Product: img.Product, Action: action, Image: img.Name, Version: img.Version, Actor: "bench", At: at}
		if _, err := f.cat.ApplyChange(ctx, catalog.Change{Event: ev, Moves: moves, Marks: marks}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range n {
		at := fixtureBase.Add(time.Duration(i) * 6 * time.Hour)
		v := fmt.Sprintf("1.%d.%d", i/10, i%10)
		name := fmt.Sprintf("big-%s-%s", v, at.Format(catalog.SerialLayout))
		img := catalog.Image{Name: name, Product: "big", Version: v, Serial: at.Format(catalog.SerialLayout),
			Distro: "debian", Release: "bookworm", Arch: "amd64", BuildID: fmt.Sprintf("sha256:%064x", i), CreatedAt: at,
			Artifacts: []catalog.Artifact{{Kind: catalog.KindQcow2, Filename: name + ".qcow2", Digest: fmt.Sprintf("sha256:%064x", i), Size: 1 << 30}}}
		for p := range 200 {
			img.Packages = append(img.Packages, catalog.Package{Name: fmt.Sprintf("pkg%03d", p), Version: fmt.Sprintf("1.%d-%d", p, i/7), Arch: "amd64"})
		}
		if err := f.cat.AddImage(ctx, img); err != nil {
			b.Fatal(err)
		}
		qa := catalog.QAResult{Passed: i%13 != 0, Accel: "tcg", TestedAt: at.Add(time.Hour)}
		if err := f.cat.RecordQA(ctx, name, qa); err != nil {
			b.Fatal(err)
		}
		channels := []string{"devel"}
		if i%5 == 0 {
			channels = append(channels, "rolling")
		}
		if i%20 == 0 {
			channels = append(channels, "stable", fmt.Sprintf("stable-1.%d", i/10))
		}
		move(img, at.Add(2*time.Hour), nil, channels...)
		if i%50 == 49 {
			move(img, at.Add(3*time.Hour), []catalog.Mark{{Image: name, Marks: catalog.Marks{Security: true, Advisories: []string{fmt.Sprintf("DSA-%d-1", 5800+i)}, Severity: "high"}}})
		}
		if i%97 == 96 {
			move(img, at.Add(4*time.Hour), []catalog.Mark{{Image: name, Marks: catalog.Marks{Revoked: true, RevokedReason: "bench", RevokedAt: at.Add(4 * time.Hour)}}})
		}
		imgs = append(imgs, img)
	}
	return f, imgs
}

// BenchmarkProductPage measures the server time of the pages over a
// catalog of 1,000 versions: cold (the first request after a catalog
// change reads the catalog and renders), rendered (the product's state
// already read by another page) and cached.
func BenchmarkProductPage(b *testing.B) {
	f, imgs := largeFixture(b, 1000)
	h := f.handler(b)
	mid := imgs[500].Name
	for _, p := range []struct{ name, target string }{
		{"product", "/products/big"},
		{"product-all", "/products/big?versions=all"},
		{"list", "/"},
		{"version", "/products/big/" + mid},
		{"changelog", "/products/big/" + mid + "?against=" + imgs[100].Name},
		{"history.svg", "/products/big/history.svg"},
	} {
		b.Run(p.name+"/cold", func(b *testing.B) { // after a catalog change: read the catalog, render
			for b.Loop() {
				h.cache, h.states = newPageCache(time.Minute, 2048), &stateCache{}
				serveOK(b, h, p.target)
			}
		})
		b.Run(p.name+"/rendered", func(b *testing.B) { // another page of a product already read
			serveOK(b, h, p.target)
			for b.Loop() {
				h.cache = newPageCache(time.Minute, 2048)
				serveOK(b, h, p.target)
			}
		})
		b.Run(p.name+"/cached", func(b *testing.B) {
			serveOK(b, h, p.target)
			for b.Loop() {
				serveOK(b, h, p.target)
			}
		})
	}
}

func serveOK(b *testing.B, h http.Handler, target string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d", target, rec.Code)
	}
}
