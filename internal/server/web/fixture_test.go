package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/release"
)

// fixtureNow is the clock of every test: a month after the first build.
var fixtureNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var fixtureBase = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

// fixture is a catalog and artifact store with a few products built
// through the catalog and release APIs.
type fixture struct {
	cat   *sqlite.DB
	store *fsstore.Store
	n     int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	store, err := fsstore.New(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{cat: cat, store: store}
}

func (f *fixture) handler(t testing.TB) *Handler {
	t.Helper()
	opt := DefaultOptions()
	opt.Catalog, opt.Store, opt.Now = f.cat, f.store, func() time.Time { return fixtureNow }
	h, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// put stores data and returns it as an artifact.
func (f *fixture) put(t testing.TB, kind, name string, data []byte) catalog.Artifact {
	t.Helper()
	d := fmt.Sprintf("sha256:%x", sha256.Sum256(data))
	if err := f.store.Put(context.Background(), d, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return catalog.Artifact{Kind: kind, Filename: name, Digest: d, Size: int64(len(data))}
}

// image adds an image of product at version whose packages are pkgs
// (name → version); withLock also stores its lock with a config tree
// commit.
func (f *fixture) image(t testing.TB, product, distro, release, arch, version string, pkgs map[string]string, withLock bool) catalog.Image {
	t.Helper()
	f.n++
	at := fixtureBase.Add(time.Duration(f.n) * 96 * time.Hour)
	serial := at.Format(catalog.SerialLayout)
	name := fmt.Sprintf("%s-%s-%s", product, version, serial)
	img := catalog.Image{
		Name: name, Product: product, Version: version, Serial: serial, Distro: distro, Release: release, Arch: arch,
		BuildID: fmt.Sprintf("sha256:%064x", f.n), CreatedAt: at, BuildDuration: 3 * time.Minute,
		Tools:   map[string]string{"mmdebstrap": "1.3.5"},
		Hygiene: []catalog.Check{{Name: "no-ssh-host-keys", Passed: true}, {Name: "empty-machine-id", Passed: true}},
	}
	var lk lock.Lock
	for _, n := range sortedKeys(pkgs) {
		img.Packages = append(img.Packages, catalog.Package{Name: n, Version: pkgs[n], Arch: arch})
		lk.Packages = append(lk.Packages, lock.Package{Name: n, Version: pkgs[n], Architecture: arch, SHA256: fmt.Sprintf("%064x", len(n)), Size: 1, Filename: "pool/" + n + ".deb", Suite: release})
	}
	img.Artifacts = append(img.Artifacts,
		f.put(t, catalog.KindQcow2, name+".qcow2", []byte("QFI\xfb qcow2 of "+name)),
		f.put(t, catalog.KindSBOM, name+".sbom.spdx.json", []byte(`{"spdxVersion":"SPDX-2.3","name":"`+name+`"}`)),
		f.put(t, catalog.KindProvenance, name+".provenance.json", []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)),
	)
	if withLock {
		lk.Format, lk.Tools = 1, img.Tools
		lk.Inputs = lock.Inputs{Distro: distro, Release: release, Arch: arch}
		lk.Suites = []lock.Suite{{Name: release, URI: "http://deb.debian.org/debian", Codename: release, Date: "2026-11-01T00:00:00Z", InReleaseSHA256: fmt.Sprintf("%064x", 1)}}
		lk.Elements = json.RawMessage(`{}`)
		lk.Config, _ = json.Marshal(map[string]any{"repo": "https://git.example.org/config.git", "ref": "main", "commit": fmt.Sprintf("%x", sha256.Sum256([]byte(name)))[:40], "modules": []any{}})
		data, err := lk.Encode()
		if err != nil {
			t.Fatal(err)
		}
		img.Artifacts = append(img.Artifacts, f.put(t, catalog.KindLock, name+".lock.json", data))
	}
	ctx := context.Background()
	if err := f.cat.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	qa := catalog.QAResult{Passed: true, Accel: "tcg", Firmwares: []string{"bios", "uefi"}, BootToSSH: 41 * time.Second,
		TestedAt: at.Add(time.Hour), Duration: 3 * time.Minute,
		Checks:    []catalog.QACheck{{Name: "ssh-login", Firmware: "bios", Passed: true, Evidence: "ok"}, {Name: "cloud-init-done", Firmware: "uefi", Passed: true, Evidence: "status: done"}},
		Artifacts: []catalog.Artifact{f.put(t, catalog.KindQAReport, "qa-report.json", []byte(`{"passed":true,"image":"`+name+`"}`))}}
	if err := f.cat.RecordQA(ctx, name, qa); err != nil {
		t.Fatal(err)
	}
	return img
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// apply loads product's release state, asks rule for a change and
// applies it.
func (f *fixture) apply(t testing.TB, product string, rule func(release.State) (catalog.Change, error)) {
	t.Helper()
	ctx := context.Background()
	s, err := release.Load(ctx, f.cat, product)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rule(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.ApplyChange(ctx, c); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) req(at time.Time) release.Request {
	return release.Request{Actor: "test", At: at, Reason: "fixture", Force: true}
}

// promote moves img through every channel up to and including to.
func (f *fixture) promote(t testing.TB, img catalog.Image, at time.Time, channels ...string) {
	t.Helper()
	for i, ch := range channels {
		f.apply(t, img.Product, func(s release.State) (catalog.Change, error) {
			return s.Promote(img, ch, f.req(at.Add(time.Duration(i)*time.Minute)))
		})
	}
}

// standardFixture: two products. debian-bookworm has 1.0.0 (stable once),
// 1.0.1 (a security release on its line), 1.1.0 (stable), 1.2.0
// (revoked after reaching rolling) and 1.3.0 (devel); ubuntu-noble has
// 1.0.0 on stable, arm64.
func standardFixture(t testing.TB) (*fixture, map[string]catalog.Image) {
	f := newFixture(t)
	imgs := map[string]catalog.Image{}
	base := map[string]string{"base-files": "12.4", "openssl": "3.0.11-1~deb12u1", "openssh-server": "1:9.2p1-2", "bash": "5.2.15-2"}
	with := func(over map[string]string, drop ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		for _, d := range drop {
			delete(m, d)
		}
		return m
	}
	p := "debian-bookworm"
	imgs["1.0.0"] = f.image(t, p, "debian", "bookworm", "amd64", "1.0.0", base, true)
	f.promote(t, imgs["1.0.0"], imgs["1.0.0"].CreatedAt.Add(2*time.Hour), "devel", "rolling", "stable")
	imgs["1.0.1"] = f.image(t, p, "debian", "bookworm", "amd64", "1.0.1", with(map[string]string{"openssl": "3.0.15-1~deb12u1"}), true)
	f.promote(t, imgs["1.0.1"], imgs["1.0.1"].CreatedAt.Add(2*time.Hour), "devel", "rolling", "stable")
	f.apply(t, p, func(s release.State) (catalog.Change, error) {
		return s.SecurityRelease(imgs["1.0.1"], release.Advisory{IDs: []string{"DSA-5801-1"}, Severity: "high", Fixed: []string{"openssl"}}, f.req(imgs["1.0.1"].CreatedAt.Add(3*time.Hour)))
	})
	imgs["1.1.0"] = f.image(t, p, "debian", "bookworm", "amd64", "1.1.0", with(map[string]string{"openssl": "3.0.15-1~deb12u1", "curl": "7.88.1-10"}, "bash"), true)
	f.promote(t, imgs["1.1.0"], imgs["1.1.0"].CreatedAt.Add(2*time.Hour), "devel", "rolling", "stable")
	imgs["1.2.0"] = f.image(t, p, "debian", "bookworm", "amd64", "1.2.0", with(map[string]string{"openssl": "3.0.15-1~deb12u1", "base-files": "12.4+deb12u8"}), false)
	f.promote(t, imgs["1.2.0"], imgs["1.2.0"].CreatedAt.Add(2*time.Hour), "devel", "rolling")
	f.apply(t, p, func(s release.State) (catalog.Change, error) {
		return s.Revoke(imgs["1.2.0"], release.Request{Actor: "test", At: imgs["1.2.0"].CreatedAt.Add(6 * time.Hour), Reason: "breaks cloud-init networking"})
	})
	imgs["1.3.0"] = f.image(t, p, "debian", "bookworm", "amd64", "1.3.0", with(map[string]string{"openssl": "3.0.15-1~deb12u1", "base-files": "12.4+deb12u9"}), true)
	f.promote(t, imgs["1.3.0"], imgs["1.3.0"].CreatedAt.Add(2*time.Hour), "devel")
	imgs["noble"] = f.image(t, "ubuntu-noble", "ubuntu", "noble", "arm64", "1.0.0", map[string]string{"base-files": "13ubuntu10"}, false)
	f.promote(t, imgs["noble"], imgs["noble"].CreatedAt.Add(2*time.Hour), "devel", "rolling", "stable")
	return f, imgs
}
