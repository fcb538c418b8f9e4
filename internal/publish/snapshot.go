// Package publish turns the catalog into a simplestreams mirror: a
// Snapshot (the signed documents, the public key and the artifacts they
// name, by mirror path) built from the live catalog, and ToDir, which
// writes a snapshot as static files incrementally and in an order that
// never lets a reader see an index naming a file that is not complete.
// The HTTP server (internal/server) serves the same snapshots.
package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
	"github.com/bakery-dev/bakery/internal/simplestreams"
)

// KeyPath is where the public key of the signing key is published.
const KeyPath = "streams/v1/bakery.asc"

// ErrOptions is wrapped by Options.Validate errors.
var ErrOptions = errors.New("invalid publish options")

// Options controls what a snapshot holds.
type Options struct {
	Streams simplestreams.Options
	// Expiry is how long the signed index stays valid after it is made.
	Expiry time.Duration
	// ContentAddressed puts every products file at a path named by the
	// digest of its content (see VersionedPath), so that the index is the
	// one file whose replacement switches a static tree from its old state
	// to its new one. ToDir requires it; the server, which swaps whole
	// snapshots in memory, keeps the fixed paths.
	ContentAddressed bool
}

// DefaultOptions returns bakery's defaults: content IDs under
// org.example.bakery, artifacts under images/, indexes valid 7 days.
func DefaultOptions() Options {
	return Options{Streams: simplestreams.DefaultOptions(), Expiry: simplestreams.DefaultExpiry}
}

// Validate checks the options at start-up.
func (o Options) Validate() error {
	if o.Expiry <= 0 {
		return fmt.Errorf("%w: expiry %s must be positive", ErrOptions, o.Expiry)
	}
	return o.Streams.Validate()
}

// Key is the signing key of a mirror (*pgpkey.Key is one).
type Key interface {
	simplestreams.Signer
	ArmoredPublic() ([]byte, error)
}

// Blob is an artifact at a mirror path.
type Blob struct {
	Digest string // sha256:<hex>
	Size   int64
}

// Snapshot is a whole mirror at one moment.
type Snapshot struct {
	// Docs are the documents by mirror path: every products file as
	// .json and .sjson, the index likewise, the public key.
	Docs map[string][]byte
	// Blobs are the artifacts the products files name, by mirror path.
	Blobs   map[string]Blob
	Index   string   // IndexPath
	Streams []string // the products files' paths (.json), sorted
	Made    time.Time
	// ContentAddressed is Options.ContentAddressed of the snapshot.
	ContentAddressed bool
}

// Build reads every product's release state from the catalog and makes a
// signed snapshot at now.
func Build(ctx context.Context, cat catalog.Catalog, key Key, opt Options, now time.Time) (Snapshot, error) {
	states, err := LoadStates(ctx, cat)
	if err != nil {
		return Snapshot{}, err
	}
	return FromStates(states, key, opt, now)
}

// LoadStates reads the release state of every product in the catalog.
func LoadStates(ctx context.Context, cat catalog.Catalog) ([]release.State, error) {
	imgs, err := cat.ListImages(ctx, catalog.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	var products []string
	for _, img := range imgs {
		if !slices.Contains(products, img.Product) {
			products = append(products, img.Product)
		}
	}
	slices.Sort(products)
	states := make([]release.State, 0, len(products))
	for _, p := range products {
		s, err := release.Load(ctx, cat, p)
		if err != nil {
			return nil, fmt.Errorf("loading release state of %s: %w", p, err)
		}
		states = append(states, s)
	}
	return states, nil
}

// FromStates makes a signed snapshot of the release states at now.
func FromStates(states []release.State, key Key, opt Options, now time.Time) (Snapshot, error) {
	if err := opt.Validate(); err != nil {
		return Snapshot{}, err
	}
	so := opt.Streams
	so.Now, so.Expires = now, now.Add(opt.Expiry).Truncate(time.Second)
	tree, err := simplestreams.Generate(states, so)
	if err != nil {
		return Snapshot{}, fmt.Errorf("generating streams: %w", err)
	}
	snap := Snapshot{Docs: map[string][]byte{}, Blobs: map[string]Blob{}, Index: simplestreams.IndexPath, Made: now, ContentAddressed: opt.ContentAddressed}
	for p, prods := range tree.Products {
		data, err := simplestreams.Marshal(prods)
		if err != nil {
			return Snapshot{}, err
		}
		if opt.ContentAddressed {
			vp := VersionedPath(p, data)
			renameStream(&tree.Index, p, vp)
			p = vp
		}
		if err := snap.addSigned(p, data, key); err != nil {
			return Snapshot{}, err
		}
		snap.Streams = append(snap.Streams, p)
		addBlobs(snap.Blobs, prods)
	}
	slices.Sort(snap.Streams)
	if err := snap.addDoc(simplestreams.IndexPath, tree.Index, key); err != nil {
		return Snapshot{}, err
	}
	pub, err := key.ArmoredPublic()
	if err != nil {
		return Snapshot{}, err
	}
	snap.Docs[KeyPath] = pub
	return snap, nil
}

// VersionedPath is where a content-addressed products file lives: its
// fixed path with the first 16 hex digits of its sha256 before ".json"
// (streams/v1/ID.json → streams/v1/ID.0123456789abcdef.json); the signed
// variant is beside it (.sjson), as simplestreams clients expect.
func VersionedPath(p string, data []byte) string {
	sum := sha256.Sum256(data)
	return strings.TrimSuffix(p, ".json") + "." + hex.EncodeToString(sum[:8]) + ".json"
}

// renameStream points the index entry of the products file at p to np.
func renameStream(idx *simplestreams.StreamIndex, p, np string) {
	for id, e := range idx.Index {
		if e.Path == p {
			e.Path = np
			idx.Index[id] = e
		}
	}
}

func (s *Snapshot) addDoc(p string, doc any, key Key) error {
	data, err := simplestreams.Marshal(doc)
	if err != nil {
		return err
	}
	return s.addSigned(p, data, key)
}

func (s *Snapshot) addSigned(p string, data []byte, key Key) error {
	signed, err := key.ClearSign(data)
	if err != nil {
		return fmt.Errorf("signing %s: %w", p, err)
	}
	s.Docs[p], s.Docs[simplestreams.SignedPath(p)] = data, signed
	return nil
}

func addBlobs(out map[string]Blob, p simplestreams.Products) {
	for _, prod := range p.Products {
		for _, v := range prod.Versions {
			for _, it := range v.Items {
				out[it.Path] = Blob{Digest: "sha256:" + it.SHA256, Size: it.Size}
			}
		}
	}
}
