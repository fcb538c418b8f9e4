package simplestreams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

var (
	// ErrNotFound is returned by a Source for a path it does not have.
	ErrNotFound = errors.New("not found in simplestreams mirror")
	// ErrItemMismatch is returned when an item's content does not have
	// the size or sha256 its products file states.
	ErrItemMismatch = errors.New("simplestreams item does not match its checksum")
)

// maxDocument bounds the size of a document read into memory.
const maxDocument = 64 << 20

// Source opens files of a mirror by path relative to its root.
type Source interface {
	Open(ctx context.Context, path string) (io.ReadCloser, error)
}

// Dir is a mirror in a local directory.
type Dir string

// Open opens the file at the mirror path.
func (d Dir) Open(_ context.Context, p string) (io.ReadCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("opening %s: %w", p, err)
	}
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(p)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("opening %s: %w", p, ErrNotFound)
	}
	return f, err
}

// HTTP is a mirror served over HTTP(S) at Base (the mirror root).
type HTTP struct {
	Base   *url.URL
	Client *http.Client // nil: http.DefaultClient
}

// Open GETs the mirror path.
func (h HTTP) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("fetching %s: %w", p, err)
	}
	u := h.Base.JoinPath(p)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", u, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("fetching %s: %w", u, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, fmt.Errorf("fetching %s: HTTP status %s", u, resp.Status)
	}
	return resp.Body, nil
}

// Client reads a mirror. With a Keyring it reads the signed documents
// (.sjson), verifying each and the index's expiry; without, the plain
// .json ones.
type Client struct {
	Source  Source
	Keyring openpgp.KeyRing  // nil: read unsigned documents
	Now     func() time.Time // nil: time.Now
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// Index reads streams/v1/index.json (or .sjson).
func (c *Client) Index(ctx context.Context) (StreamIndex, error) {
	if c.Keyring == nil {
		data, err := c.read(ctx, IndexPath)
		if err != nil {
			return StreamIndex{}, err
		}
		return ParseIndex(data)
	}
	data, err := c.read(ctx, SignedPath(IndexPath))
	if err != nil {
		return StreamIndex{}, err
	}
	return VerifyIndex(data, c.Keyring, c.now())
}

// Products reads the products file an index entry points at.
func (c *Client) Products(ctx context.Context, e StreamIndexEntry) (Products, error) {
	if c.Keyring == nil {
		data, err := c.read(ctx, e.Path)
		if err != nil {
			return Products{}, err
		}
		return ParseProducts(data)
	}
	data, err := c.read(ctx, SignedPath(e.Path))
	if err != nil {
		return Products{}, err
	}
	return VerifyProducts(data, c.Keyring)
}

func (c *Client) read(ctx context.Context, p string) ([]byte, error) {
	rc, err := c.Source.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if len(data) > maxDocument {
		return nil, fmt.Errorf("reading %s: %w: larger than %d bytes", p, ErrFormat, maxDocument)
	}
	return data, nil
}

// VerifyItem downloads an item and checks its size and sha256.
func (c *Client) VerifyItem(ctx context.Context, it ProductVersionItem) error {
	rc, err := c.Source.Open(ctx, it.Path)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", it.Path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != it.Size || got != it.SHA256 {
		return fmt.Errorf("%w: %s is %d bytes with sha256 %s, want %d bytes with %s", ErrItemMismatch, it.Path, n, got, it.Size, it.SHA256)
	}
	return nil
}

// Walk reads the index and every products file of datatype
// image-downloads, and calls fn for each item.
func (c *Client) Walk(ctx context.Context, fn func(product, serial, key string, it ProductVersionItem) error) error {
	idx, err := c.Index(ctx)
	if err != nil {
		return err
	}
	for _, id := range sortedKeys(idx.Index) {
		e := idx.Index[id]
		if e.Datatype != DatatypeDownloads {
			continue
		}
		p, err := c.Products(ctx, e)
		if err != nil {
			return err
		}
		if err := walkProducts(p, fn); err != nil {
			return err
		}
	}
	return nil
}

func walkProducts(p Products, fn func(product, serial, key string, it ProductVersionItem) error) error {
	for _, name := range sortedKeys(p.Products) {
		prod := p.Products[name]
		for _, serial := range sortedKeys(prod.Versions) {
			v := prod.Versions[serial]
			for _, key := range sortedKeys(v.Items) {
				if err := fn(name, serial, key, v.Items[key]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
