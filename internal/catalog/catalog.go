// Package catalog holds bakery's record of built images: what each image is
// (product, version, serial), how it was built (recipe, build ID, tool
// versions), what it contains (packages), what it produced (artifacts in the
// artifact store), how its hygiene checks went and the verdicts of its boot
// tests (QA results), and its release state: channel heads and their
// history, revocations, security releases and the audit log of every
// release action; and the webhooks with their outbox of deliveries.
//
// The Reader and Writer interfaces document their errors; every backend
// (catalog/sqlite by default) must pass the catalogtest conformance suite.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound is returned when the named image is not in the catalog.
	ErrNotFound = errors.New("not found in catalog")
	// ErrConflict is returned when adding an image whose name, or whose
	// product and serial, is already taken.
	ErrConflict = errors.New("conflicts with catalog entry")
	// ErrInvalid is returned for an image that fails Image.Validate.
	ErrInvalid = errors.New("invalid catalog entry")
)

// Artifact kinds.
const (
	KindQcow2     = "qcow2"
	KindRaw       = "raw"
	KindRootfsTar = "rootfs-tar"
	KindManifest  = "manifest"
	KindSBOM      = "sbom"
	// KindLock is the canonical lock a locked build used (NAME.lock.json):
	// with the recipe, what `bakery verify` rebuilds the image from.
	KindLock = "lock"
	// KindProvenance is the image's in-toto Statement with an SLSA
	// Provenance v1 predicate (NAME.provenance.json).
	KindProvenance = "provenance"
)

// Image is one built image.
//
// Round-trip contract: an image read back equals the one added, except that
// CreatedAt is in UTC truncated to the microsecond, and nil and empty
// slices or maps are not told apart.
type Image struct {
	Name          string // unique, e.g. debian-bookworm.amd64-0.1.0-2026112114
	Product       string
	Version       string
	Serial        string // UTC YYYYMMDDHH, optionally with a suffix ".1", ".2"; unique per product
	Distro        string
	Release       string
	Arch          string
	BuildID       string // "sha256:..."
	RecipeDigest  string
	Recipe        []byte // effective recipe YAML
	CreatedAt     time.Time
	BuildDuration time.Duration
	Artifacts     []Artifact
	Packages      []Package
	Hygiene       []Check           // hygiene report
	Tools         map[string]string // tool name → version
}

// Artifact is one file an image build produced, kept in the artifact store
// under Digest.
type Artifact struct {
	Kind     string // KindQcow2, KindRaw, KindRootfsTar, KindManifest, KindSBOM
	Filename string // unique within an image
	Digest   string // "sha256:<hex>"
	Size     int64
}

// Package is one installed package; Name and Arch are unique within an image.
type Package struct {
	Name    string
	Version string
	Arch    string
}

// Check is the result of one hygiene check.
type Check struct {
	Name   string
	Passed bool
	Detail string
	Found  []string // offending paths or items, if any
}

// ListOptions selects images for ListImages.
type ListOptions struct {
	Product string // only this product; empty for all
	BuildID string // only images with this build ID; empty for all
	Limit   int    // at most this many; 0 for no limit
}

// Reader reads the catalog. Implementations are safe for concurrent use.
type Reader interface {
	// GetImage returns the image with the name, or ErrNotFound.
	GetImage(ctx context.Context, name string) (Image, error)
	// ListImages returns images newest first (CreatedAt descending, then
	// name ascending), with all their data.
	ListImages(ctx context.Context, opt ListOptions) ([]Image, error)
	// SerialsWithPrefix returns, in ascending order, the serials of
	// product's images that start with prefix.
	SerialsWithPrefix(ctx context.Context, product, prefix string) ([]string, error)
	// LatestQA returns the most recent QA result recorded for the image
	// (TestedAt descending; of equal times the last recorded). It returns
	// ErrNotFound when the image is not in the catalog or was never tested.
	LatestQA(ctx context.Context, image string) (QAResult, error)
}

// Writer changes the catalog. Implementations are safe for concurrent use.
type Writer interface {
	// AddImage adds img, all or nothing. It returns ErrInvalid if img fails
	// Validate and ErrConflict if its name, or its product and serial, are
	// already in the catalog; in both cases nothing is written. With the
	// image it queues a built delivery for every webhook subscribed to it
	// (see Outbox).
	AddImage(ctx context.Context, img Image) error
	// DeleteImage removes the image and everything recorded with it, or
	// returns ErrNotFound.
	DeleteImage(ctx context.Context, name string) error
	// RecordQA adds a QA result to the named image, all or nothing;
	// earlier results are kept. It returns ErrInvalid if res fails Validate
	// or names another image (res.Image may be empty), and ErrNotFound if
	// the image is not in the catalog. Deleting the image deletes its QA
	// results.
	RecordQA(ctx context.Context, image string, res QAResult) error
}

// Catalog is a catalog backend.
type Catalog interface {
	Reader
	Writer
	ReleaseReader
	ReleaseWriter
	Outbox
	Close() error
}

// Validate checks what every backend relies on: the identifying fields are
// set, and artifact filenames and package name/arch pairs are unique within
// the image. Errors wrap ErrInvalid.
func (img Image) Validate() error {
	for _, f := range []struct{ name, value string }{
		{"name", img.Name}, {"product", img.Product}, {"serial", img.Serial},
	} {
		if f.value == "" {
			return fmt.Errorf("%w: image %q has no %s", ErrInvalid, img.Name, f.name)
		}
	}
	if img.CreatedAt.IsZero() {
		return fmt.Errorf("%w: image %q has no creation time", ErrInvalid, img.Name)
	}
	return img.validateChildren()
}

func (img Image) validateChildren() error {
	files := map[string]bool{}
	for _, a := range img.Artifacts {
		if a.Filename == "" || files[a.Filename] {
			return fmt.Errorf("%w: image %q: artifact filename %q is empty or repeated", ErrInvalid, img.Name, a.Filename)
		}
		files[a.Filename] = true
	}
	pkgs := map[Package]bool{}
	for _, p := range img.Packages {
		key := Package{Name: p.Name, Arch: p.Arch}
		if p.Name == "" || pkgs[key] {
			return fmt.Errorf("%w: image %q: package %q (%s) is unnamed or repeated", ErrInvalid, img.Name, p.Name, p.Arch)
		}
		pkgs[key] = true
	}
	return nil
}

// SerialLayout is the time layout of a serial, always in UTC.
const SerialLayout = "2006010215"

// NextSerial returns the serial for an image built at t: t's UTC hour as
// YYYYMMDDHH, or, if that is among used, the first of YYYYMMDDHH.1,
// YYYYMMDDHH.2, … that is not.
func NextSerial(t time.Time, used []string) string {
	taken := make(map[string]bool, len(used))
	for _, u := range used {
		taken[u] = true
	}
	base := t.UTC().Format(SerialLayout)
	s := base
	for i := 1; taken[s]; i++ {
		s = fmt.Sprintf("%s.%d", base, i)
	}
	return s
}
