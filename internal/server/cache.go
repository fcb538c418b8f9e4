package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bakery-dev/bakery/internal/publish"
)

// view is one generated snapshot with what serving it needs: each
// document's ETag and, for JSON documents, a gzipped copy.
type view struct {
	snap  publish.Snapshot
	docs  map[string]doc
	gen   string
	made  time.Time // when it was signed (by the injected clock)
	check time.Time // when the generation was last compared (real time)
}

type doc struct {
	data, gz []byte
	etag     string
}

// cache holds the current view. Readers take it without locking; at most
// once per interval one of them asks the catalog for its generation (the
// others keep serving the current view meanwhile), and regenerates when
// the generation changed or the view is older than resign.
type cache struct {
	build      func(context.Context) (publish.Snapshot, error)
	generation func(context.Context) (string, error)
	interval   time.Duration
	resign     time.Duration
	now        func() time.Time

	cur atomic.Pointer[view]
	mu  sync.Mutex // serialises checks and rebuilds
}

func (c *cache) current(ctx context.Context) (*view, error) {
	v := c.cur.Load()
	switch {
	case v != nil && time.Since(v.check) < c.interval:
		return v, nil
	case v != nil && !c.mu.TryLock():
		return v, nil // another request is checking: no queue behind it
	case v == nil:
		c.mu.Lock() // nothing to serve yet: wait for the first build
	}
	defer c.mu.Unlock()
	if v = c.cur.Load(); v != nil && time.Since(v.check) < c.interval {
		return v, nil // another request checked meanwhile
	}
	gen, err := c.generation(ctx)
	if err != nil {
		return nil, err
	}
	if v != nil && v.gen == gen && c.now().Sub(v.made) < c.resign {
		checked := *v
		checked.check = time.Now()
		c.cur.Store(&checked)
		return &checked, nil
	}
	snap, err := c.build(ctx)
	if err != nil {
		return nil, err
	}
	nv := &view{snap: snap, docs: make(map[string]doc, len(snap.Docs)), gen: gen, made: snap.Made, check: time.Now()}
	for p, data := range snap.Docs {
		nv.docs[p] = newDoc(p, data)
	}
	c.cur.Store(nv)
	return nv, nil
}

func newDoc(p string, data []byte) doc {
	sum := sha256.Sum256(data)
	d := doc{data: data, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	if compressible(p) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(data) // writes to a bytes.Buffer do not fail
		_ = zw.Close()
		d.gz = buf.Bytes()
	}
	return d
}

func compressible(p string) bool {
	return strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".sjson")
}
