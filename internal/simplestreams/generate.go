package simplestreams

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

// ErrOptions is wrapped by Options.Validate errors.
var ErrOptions = errors.New("invalid simplestreams options")

// StreamRule says which channels feed a stream: a version belongs to the
// stream once one of the channels has held it (it was ever the head) and
// as long as it is not revoked.
type StreamRule struct {
	Name     string   // released, rolling, daily
	Label    string   // the versions' label
	Channels []string // channel names; "stable-*" matches every line channel
}

// DefaultStreams maps bakery's default channels to the stream names
// Canonical uses: stable (and the stable-X.Y lines, which hold hotfixes)
// → released, rolling → rolling, devel → daily.
func DefaultStreams() []StreamRule {
	return []StreamRule{
		{Name: "released", Label: "release", Channels: []string{"stable", "stable-*"}},
		{Name: "rolling", Label: "rolling", Channels: []string{"rolling"}},
		{Name: "daily", Label: "daily", Channels: []string{"devel"}},
	}
}

// Options controls generation.
type Options struct {
	// ContentIDPrefix starts every content ID and product name, e.g.
	// "org.example.bakery" gives org.example.bakery:released:download and
	// org.example.bakery:debian-cloud:bookworm:amd64.
	ContentIDPrefix string
	// ImagesDir is the directory artifacts are published under:
	// ImagesDir/PRODUCT/SERIAL/FILENAME.
	ImagesDir string
	Streams   []StreamRule
	// Now is the time support status (end of life) is computed at.
	Now time.Time
	// Expires, when not zero, is written into the index as "expires".
	Expires time.Time
}

// DefaultOptions returns the options bakery publishes with.
func DefaultOptions() Options {
	return Options{ContentIDPrefix: "org.example.bakery", ImagesDir: "images", Streams: DefaultStreams()}
}

// Validate checks the options before any document is generated.
func (o Options) Validate() error {
	if o.ContentIDPrefix == "" || strings.ContainsAny(o.ContentIDPrefix, "/ ") {
		return fmt.Errorf("%w: content ID prefix %q must be non-empty without '/' or spaces", ErrOptions, o.ContentIDPrefix)
	}
	if err := checkPath(o.ImagesDir); err != nil || strings.HasPrefix(o.ImagesDir, "streams") {
		return fmt.Errorf("%w: images directory %q must be a clean relative path outside streams/", ErrOptions, o.ImagesDir)
	}
	seen := map[string]bool{}
	for _, s := range o.Streams {
		if s.Name == "" || strings.ContainsAny(s.Name, ":/ ") || seen[s.Name] {
			return fmt.Errorf("%w: stream name %q is empty, repeated or contains ':', '/' or spaces", ErrOptions, s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// Tree is a generated set of documents: the index and the products files
// by path (relative to the mirror root).
type Tree struct {
	Index    StreamIndex
	Products map[string]Products
}

// ContentID returns the content ID of a stream's downloads.
func (o Options) ContentID(stream string) string {
	return o.ContentIDPrefix + ":" + stream + ":download"
}

// ProductsPath returns where the products file of a content ID lives.
func ProductsPath(contentID string) string { return "streams/v1/" + contentID + ".json" }

// Generate turns the release states of products (see release.Load) into
// an index and one products file per stream. It does no I/O. Revoked
// versions never appear; every stream of opt.Streams is listed, empty or
// not. "updated" is the time of the latest change that concerns the
// stream, so an unchanged catalog gives byte-identical products files.
func Generate(states []release.State, opt Options) (Tree, error) {
	if err := opt.Validate(); err != nil {
		return Tree{}, err
	}
	t := Tree{Index: StreamIndex{Format: FormatIndex, Index: map[string]StreamIndexEntry{}}, Products: map[string]Products{}}
	var latest time.Time
	for _, rule := range opt.Streams {
		p, updated, err := generateStream(states, rule, opt)
		if err != nil {
			return Tree{}, err
		}
		t.Products[ProductsPath(p.ContentID)] = p
		t.Index.Index[p.ContentID] = indexEntry(p)
		latest = later(latest, updated)
	}
	if !latest.IsZero() {
		t.Index.Updated = FormatTime(latest)
	}
	if !opt.Expires.IsZero() {
		t.Index.Expires = FormatTime(opt.Expires)
	}
	return t, nil
}

func indexEntry(p Products) StreamIndexEntry {
	names := make([]string, 0, len(p.Products))
	for name := range p.Products {
		names = append(names, name)
	}
	slices.Sort(names)
	return StreamIndexEntry{Datatype: p.Datatype, Path: ProductsPath(p.ContentID), Updated: p.Updated, Products: names, Format: FormatProducts}
}

func generateStream(states []release.State, rule StreamRule, opt Options) (Products, time.Time, error) {
	p := Products{ContentID: opt.ContentID(rule.Name), Datatype: DatatypeDownloads, Format: FormatProducts, Products: map[string]Product{}}
	var updated time.Time
	for _, s := range states {
		u, err := addState(p.Products, s, rule, opt)
		if err != nil {
			return Products{}, time.Time{}, err
		}
		updated = later(updated, u)
	}
	if !updated.IsZero() {
		p.Updated = FormatTime(updated)
	}
	return p, updated, nil
}

// addState adds the versions of one bakery product that belong to the
// stream and returns the time of the latest change concerning them.
func addState(out map[string]Product, s release.State, rule StreamRule, opt Options) (time.Time, error) {
	held, updated := heldBy(s, rule)
	eol := lineEOLs(s, opt.Now)
	for _, img := range s.Images {
		if !held[img.Name] {
			continue
		}
		updated = later(updated, s.Marks[img.Name].RevokedAt)
		if s.Marks[img.Name].Revoked {
			continue
		}
		updated = later(updated, img.CreatedAt)
		v, err := productVersion(s, img, rule, opt, eol)
		if err != nil {
			return time.Time{}, err
		}
		if len(v.Items) == 0 {
			continue
		}
		name := ProductName(opt.ContentIDPrefix, img)
		prod, ok := out[name]
		if !ok {
			prod = newProduct(img, rule)
		}
		prod.Versions[img.Serial] = v
		out[name] = prod
	}
	return updated, nil
}

// heldBy returns the images the rule's channels ever held, and when the
// channels last moved.
func heldBy(s release.State, rule StreamRule) (map[string]bool, time.Time) {
	held := map[string]bool{}
	var updated time.Time
	for _, h := range s.History {
		if rule.matches(h.Channel) {
			held[h.Image] = true
			updated = later(updated, h.At)
		}
	}
	for _, h := range s.Heads {
		if rule.matches(h.Channel) && h.Image != "" {
			held[h.Image] = true
		}
	}
	return held, updated
}

func (r StreamRule) matches(channel string) bool {
	for _, c := range r.Channels {
		if prefix, ok := strings.CutSuffix(c, "*"); ok && strings.HasPrefix(channel, prefix) || c == channel {
			return true
		}
	}
	return false
}

// lineEOLs returns the known end-of-life date of each release line.
func lineEOLs(s release.State, now time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	for _, ls := range s.Support(now) {
		if !ls.EOL.IsZero() {
			out[ls.Line] = ls.EOL
		}
	}
	return out
}

// ProductName is the simplestreams product of an image:
// PREFIX:PRODUCT:RELEASE:ARCH.
func ProductName(prefix string, img catalog.Image) string {
	return strings.Join([]string{prefix, img.Product, img.Release, img.Arch}, ":")
}

func newProduct(img catalog.Image, rule StreamRule) Product {
	return Product{
		Aliases:      aliases(img, rule),
		Arch:         img.Arch,
		OS:           img.Distro,
		Release:      img.Release,
		ReleaseTitle: releaseTitle(img.Distro, img.Release),
		Version:      osVersion(img.Distro, img.Release),
		Stream:       rule.Name,
		Versions:     map[string]ProductVersion{},
	}
}

// aliases are unique across streams, as LXD merges every products file of
// a remote: PRODUCT/RELEASE and PRODUCT on released, with the stream name
// appended on the others.
func aliases(img catalog.Image, rule StreamRule) string {
	base := []string{img.Product + "/" + img.Release, img.Product}
	if rule.Name != "released" {
		for i := range base {
			base[i] += "/" + rule.Name
		}
	}
	return strings.Join(base, ",")
}

func productVersion(s release.State, img catalog.Image, rule StreamRule, opt Options, eol map[string]time.Time) (ProductVersion, error) {
	v := ProductVersion{Items: map[string]ProductVersionItem{}, Label: rule.Label, Pubname: img.Name, Version: img.Version}
	if ver, err := s.Version(img); err == nil {
		if t, ok := eol[ver.Line()]; ok {
			v.SupportEOL = t.UTC().Format(time.DateOnly)
		}
	}
	for _, a := range img.Artifacts {
		key, it, err := item(img, a, opt)
		if err != nil {
			return ProductVersion{}, err
		}
		if _, dup := v.Items[key]; dup {
			key = a.Filename
		}
		v.Items[key] = it
	}
	return v, nil
}

func item(img catalog.Image, a catalog.Artifact, opt Options) (string, ProductVersionItem, error) {
	hex, err := artifact.Hex(a.Digest)
	if err != nil {
		return "", ProductVersionItem{}, fmt.Errorf("publishing %s: %w", img.Name, err)
	}
	p := ItemPath(opt.ImagesDir, img, a)
	if strings.Contains(a.Filename, "/") || checkPath(p) != nil || strings.Count(p, "/") != strings.Count(opt.ImagesDir, "/")+3 {
		return "", ProductVersionItem{}, fmt.Errorf("publishing %s: artifact file name %q or product %q gives the unsafe path %q", img.Name, a.Filename, img.Product, p)
	}
	ft := FType(a)
	return ft, ProductVersionItem{FType: ft, Path: p, SHA256: hex, Size: a.Size}, nil
}

// ItemPath is where an artifact is published: IMAGESDIR/PRODUCT/SERIAL/FILENAME.
func ItemPath(imagesDir string, img catalog.Image, a catalog.Artifact) string {
	return path.Join(imagesDir, img.Product, img.Serial, a.Filename)
}

// FType is the ftype (and item key) of an artifact, after the names
// Canonical's cloud images use where one exists:
//
//	qcow2       disk1.img       (Ubuntu's name for the qcow2 cloud image)
//	raw         disk.raw        (no Ubuntu equivalent; GCE's name for a raw disk)
//	rootfs-tar  root.tar.EXT    (Ubuntu's root.tar.xz, EXT the compression: zst, xz, gz)
//	manifest    manifest.json   (Ubuntu's "manifest" is a text package list; bakery's is JSON)
//	sbom        sbom.spdx.json  (SPDX 2.3 JSON)
//
// Other kinds keep their kind as ftype.
func FType(a catalog.Artifact) string {
	switch a.Kind {
	case catalog.KindQcow2:
		return "disk1.img"
	case catalog.KindRaw:
		return "disk.raw"
	case catalog.KindRootfsTar:
		if i := strings.LastIndex(a.Filename, ".tar"); i >= 0 {
			return "root" + a.Filename[i:]
		}
		return "root.tar"
	case catalog.KindManifest:
		return "manifest.json"
	case catalog.KindSBOM:
		return "sbom.spdx.json"
	}
	return a.Kind
}

// debianReleases are the Debian codenames bakery knows the number of.
var debianReleases = map[string]string{
	"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14",
}

func osVersion(distro, rel string) string {
	if distro == "debian" {
		return debianReleases[rel]
	}
	return ""
}

// releaseTitle is e.g. "12 (bookworm)", or the codename alone.
func releaseTitle(distro, rel string) string {
	if n := osVersion(distro, rel); n != "" {
		return n + " (" + rel + ")"
	}
	return rel
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
