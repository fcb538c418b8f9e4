package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/manifest"
	"github.com/bakery-dev/bakery/internal/release"
)

// maxDocument bounds the lock and manifest read from the store.
const maxDocument = 64 << 20

type versionPage struct {
	base
	Product   string
	Img       catalog.Image
	Status    release.ImageStatus
	QA        *catalog.QAResult
	QAFiles   []download
	Downloads []download
	Config    configInfo
	Path      *pathView // to the stable head
	Others    []catalog.Image
	Against   string
	Changelog *changelogView
}

// configInfo is the config tree an image was built from, when known.
type configInfo struct {
	Repo, Ref, Commit, Tag string
}

type changelogView struct {
	From, To   catalog.Image
	Source     string // "locks" or "package lists"
	Changes    lock.Changelog
	ConfigFrom configInfo
	ConfigTo   configInfo
}

func (h *Handler) renderVersion(r *http.Request, product, ref string) (page, error) {
	ctx := r.Context()
	s, err := h.state(ctx, product)
	if err != nil {
		return page{}, err
	}
	img, err := s.Find(ref)
	if err != nil {
		return page{}, err
	}
	now := h.opt.Now()
	vp := versionPage{
		base:    base{Title: img.Name, Crumbs: []crumb{{"Images", "/"}, {product, "/products/" + pathEscape(product)}, {img.Version, ""}}},
		Product: product, Img: img, Status: s.Status(img, now), Downloads: downloads(r, img), Others: s.Images,
	}
	if qa, ok := s.QA[img.Name]; ok {
		vp.QA = &qa
		for _, a := range qa.Artifacts {
			vp.QAFiles = append(vp.QAFiles, newDownload(r, img.Name, a))
		}
	}
	lk, cfg, err := h.buildRecord(ctx, img)
	if err != nil {
		return page{}, err
	}
	vp.Config = cfg
	if target, ok := findImage(s.Images, s.Heads["stable"].Image); ok && target.Name != img.Name && !vp.Status.Marks.Revoked {
		p := upgradePath(s, img, target)
		vp.Path = &p
	}
	if vp.Against = r.URL.Query().Get("against"); vp.Against != "" {
		if vp.Changelog, err = h.changelog(ctx, s, img, lk, cfg, vp.Against); err != nil {
			return page{}, err
		}
	}
	return h.html("version.html", vp)
}

func findImage(imgs []catalog.Image, name string) (catalog.Image, bool) {
	for _, img := range imgs {
		if img.Name == name {
			return img, true
		}
	}
	return catalog.Image{}, false
}

// changelog compares the image against another version of the product,
// the older of the two first.
func (h *Handler) changelog(ctx context.Context, s release.State, img catalog.Image, lk *lock.Lock, cfg configInfo, against string) (*changelogView, error) {
	other, err := s.Find(against)
	if err != nil {
		return nil, err
	}
	olk, ocfg, err := h.buildRecord(ctx, other)
	if err != nil {
		return nil, err
	}
	from, to, flk, tlk, fcfg, tcfg := other, img, olk, lk, ocfg, cfg
	if other.CreatedAt.After(img.CreatedAt) {
		from, to, flk, tlk, fcfg, tcfg = img, other, lk, olk, cfg, ocfg
	}
	cv := &changelogView{From: from, To: to, Source: "locks", ConfigFrom: fcfg, ConfigTo: tcfg}
	if flk == nil || tlk == nil {
		cv.Source, flk, tlk = "package lists", packageLock(from), packageLock(to)
	}
	cv.Changes = lock.Diff(flk, tlk)
	return cv, nil
}

// packageLock stands a lock in for an image built without one: its
// package list and tool versions.
func packageLock(img catalog.Image) *lock.Lock {
	l := &lock.Lock{Tools: img.Tools}
	for _, p := range img.Packages {
		l.Packages = append(l.Packages, lock.Package{Name: p.Name, Version: p.Version, Architecture: p.Arch})
	}
	return l
}

// buildRecord reads the image's lock (nil when it was built without one)
// and its config tree: from the lock, else from the manifest.
func (h *Handler) buildRecord(ctx context.Context, img catalog.Image) (*lock.Lock, configInfo, error) {
	var lk *lock.Lock
	var cfg configInfo
	if data, ok, err := h.artifactOf(ctx, img, catalog.KindLock); err != nil {
		return nil, cfg, err
	} else if ok {
		if lk, err = lock.Decode(data); err != nil {
			h.log.Warn("the stored lock does not decode", "image", img.Name, "err", err)
		} else {
			var tree configtree.Lock
			if json.Unmarshal(lk.Config, &tree) == nil && tree.Commit != "" {
				return lk, configInfo{Repo: tree.Repo, Ref: tree.Ref, Commit: tree.Commit, Tag: tree.Tag}, nil
			}
		}
	}
	data, ok, err := h.artifactOf(ctx, img, catalog.KindManifest)
	if err != nil || !ok {
		return lk, cfg, err
	}
	if m, err := manifest.Parse(data); err == nil {
		cfg = configInfo{Ref: m.ConfigRef, Commit: m.ConfigCommit}
	}
	return lk, cfg, nil
}

// artifactOf reads the image's first artifact of kind from the store.
func (h *Handler) artifactOf(ctx context.Context, img catalog.Image, kind string) ([]byte, bool, error) {
	for _, a := range img.Artifacts {
		if a.Kind != kind {
			continue
		}
		rc, err := h.opt.Store.Open(ctx, a.Digest)
		if err != nil {
			h.log.Warn("the catalog names an artifact the store does not have", "image", img.Name, "file", a.Filename, "err", err)
			return nil, false, nil
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, maxDocument))
		if err != nil {
			return nil, false, fmt.Errorf("reading %s of %s: %w", a.Filename, img.Name, err)
		}
		return data, true, nil
	}
	return nil, false, nil
}
