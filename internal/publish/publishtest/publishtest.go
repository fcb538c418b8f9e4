// Package publishtest fills a catalog with synthetic images whose artifacts
// are real random blobs in an artifact store, and moves their channels, for
// tests and benchmarks of publishing and serving that need no real build.
package publishtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
)

// Filler adds synthetic images. Its random source is seeded, so a seed
// gives the same blobs every run.
type Filler struct {
	Catalog catalog.Catalog
	Store   artifact.Store
	Rand    *rand.Rand
	// BlobSize is the size of the disk-image blobs; the other artifacts are
	// a quarter of it.
	BlobSize int
	Base     time.Time // creation time of the first image
	n        int
}

// New returns a filler with a seeded random source.
func New(cat catalog.Catalog, store artifact.Store, seed uint64, blobSize int) *Filler {
	return &Filler{Catalog: cat, Store: store, Rand: rand.New(rand.NewPCG(seed, seed)), BlobSize: blobSize,
		Base: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
}

// AddImage adds an image of product at version with a qcow2, a raw disk, a
// rootfs tarball, a manifest and an SBOM, each a random blob put in the
// store.
func (f *Filler) AddImage(ctx context.Context, product, version string) (catalog.Image, error) {
	f.n++
	at := f.Base.Add(time.Duration(f.n) * time.Hour)
	serial := at.Format(catalog.SerialLayout)
	name := fmt.Sprintf("%s-%s-%s", product, version, serial)
	img := catalog.Image{
		Name: name, Product: product, Version: version, Serial: serial, Distro: "debian", Release: "bookworm",
		Arch: "amd64", BuildID: fmt.Sprintf("sha256:%064x", f.n), CreatedAt: at,
	}
	for _, a := range []struct {
		kind, suffix string
		size         int
	}{
		{catalog.KindQcow2, ".qcow2", f.BlobSize},
		{catalog.KindRaw, ".raw", f.BlobSize},
		{catalog.KindRootfsTar, ".rootfs.tar.zst", f.BlobSize / 4},
		{catalog.KindManifest, ".manifest.json", f.BlobSize/4 + 1},
		{catalog.KindSBOM, ".sbom.spdx.json", f.BlobSize/4 + 2},
	} {
		art, err := f.putBlob(ctx, a.size)
		if err != nil {
			return catalog.Image{}, err
		}
		art.Kind, art.Filename = a.kind, name+a.suffix
		img.Artifacts = append(img.Artifacts, art)
	}
	if err := f.Catalog.AddImage(ctx, img); err != nil {
		return catalog.Image{}, fmt.Errorf("adding synthetic image: %w", err)
	}
	return img, nil
}

func (f *Filler) putBlob(ctx context.Context, size int) (catalog.Artifact, error) {
	data := make([]byte, size+8)
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(data[i:], f.Rand.Uint64())
	}
	data = data[:size]
	sum := sha256.Sum256(data)
	d := fmt.Sprintf("sha256:%x", sum)
	if err := f.Store.Put(ctx, d, bytes.NewReader(data)); err != nil {
		return catalog.Artifact{}, fmt.Errorf("storing synthetic blob: %w", err)
	}
	return catalog.Artifact{Digest: d, Size: int64(size)}, nil
}

// Move makes img the head of channel (no gates: a test's shortcut).
func (f *Filler) Move(ctx context.Context, img catalog.Image, channel string) error {
	heads, err := f.Catalog.ChannelHeads(ctx, img.Product)
	if err != nil {
		return err
	}
	from := ""
	for _, h := range heads {
		if h.Channel == channel {
			from = h.Image
		}
	}
	return f.apply(ctx, img, catalog.ActionPromote, channel, []catalog.Move{{Channel: channel, From: from, To: img.Name}}, nil)
}

// Revoke marks img revoked (channels keep pointing at it; streams drop it).
func (f *Filler) Revoke(ctx context.Context, img catalog.Image) error {
	marks := []catalog.Mark{{Image: img.Name, Marks: catalog.Marks{Revoked: true, RevokedReason: "test", RevokedAt: f.now()}}}
	return f.apply(ctx, img, catalog.ActionRevoke, "", nil, marks)
}

func (f *Filler) apply(ctx context.Context, img catalog.Image, action, channel string, moves []catalog.Move, marks []catalog.Mark) error {
	ev := catalog.Event{Product: img.Product, Action: action, Image: img.Name, Version: img.Version,
		Channel: channel, Actor: "publishtest", At: f.now()}
	if _, err := f.Catalog.ApplyChange(ctx, catalog.Change{Event: ev, Moves: moves, Marks: marks}); err != nil {
		return fmt.Errorf("%s %s: %w", action, img.Name, err)
	}
	return nil
}

func (f *Filler) now() time.Time {
	f.n++
	return f.Base.Add(time.Duration(f.n) * time.Hour)
}

// Fill adds images images of each product with versions 1.0.0, 1.1.0, …;
// the first goes to stable, the others to devel, every second one also to
// rolling.
func (f *Filler) Fill(ctx context.Context, products []string, images int) error {
	for _, p := range products {
		for i := range images {
			img, err := f.AddImage(ctx, p, fmt.Sprintf("1.%d.0", i))
			if err != nil {
				return err
			}
			channels := []string{"devel"}
			if i == 0 {
				channels = append(channels, "stable", "stable-1.0")
			}
			if i%2 == 1 {
				channels = append(channels, "rolling")
			}
			for _, c := range channels {
				if err := f.Move(ctx, img, c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
