package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/publish"
)

// contentTypes by file name ending; anything else is
// application/octet-stream (never sniffed).
var contentTypes = []struct{ suffix, ctype string }{
	{".sjson", "text/plain; charset=utf-8"}, // JSON in an OpenPGP cleartext signature
	{".json", "application/json"},
	{".asc", "application/pgp-keys"},
	{".qcow2", "application/x-qemu-disk"},
	{".tar.zst", "application/zstd"},
	{".tar.xz", "application/x-xz"},
	{".tar.gz", "application/gzip"},
	{".tar", "application/x-tar"},
}

func contentType(name string) string {
	for _, c := range contentTypes {
		if strings.HasSuffix(name, c.suffix) {
			return c.ctype
		}
	}
	return "application/octet-stream"
}

// serveDoc serves a generated document from memory, gzipped when the
// client accepts it (a different representation: its own ETag).
func serveDoc(w http.ResponseWriter, r *http.Request, p string, d doc, made time.Time) {
	h := w.Header()
	h.Set("Content-Type", contentType(p))
	h.Set("Cache-Control", "no-cache") // revalidate: the index changes with the catalog
	data, etag := d.data, d.etag
	if d.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			data, etag = d.gz, strings.TrimSuffix(d.etag, `"`)+`-gzip"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	if conditional(r) {
		http.ServeContent(w, r, "", made, bytes.NewReader(data))
		return
	}
	// The common case, answered as ServeContent would, in one write: its
	// copy loop would send a large document in 4 KiB writes.
	h.Set("Accept-Ranges", "bytes")
	h.Set("Last-Modified", made.UTC().Format(http.TimeFormat))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data) // a failed write means the client went away
	}
}

// conditional reports whether a request needs ServeContent's handling of
// ranges and preconditions.
func conditional(r *http.Request) bool {
	for _, k := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since"} {
		if r.Header.Get(k) != "" {
			return true
		}
	}
	return false
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) listed without
// q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}

// serveBlob serves an artifact from the store. Stores that keep local
// files (fsstore) give Range support; others are streamed whole.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, p string, b publish.Blob) error {
	hexd, err := artifact.Hex(b.Digest)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", contentType(p))
	h.Set("ETag", `"`+hexd+`"`)
	h.Set("Cache-Control", "public, max-age=86400") // a path's content never changes
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", path.Base(p)))
	if loc, ok := s.opt.Store.(artifact.Locator); ok {
		file, err := loc.Path(b.Digest)
		if err != nil {
			return fmt.Errorf("artifact %s of %s: %w", b.Digest, p, err)
		}
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("opening artifact %s: %w", b.Digest, err)
		}
		defer f.Close()
		http.ServeContent(w, r, "", time.Time{}, f)
		return nil
	}
	rc, err := s.opt.Store.Open(r.Context(), b.Digest)
	if err != nil {
		return fmt.Errorf("artifact %s of %s: %w", b.Digest, p, err)
	}
	defer rc.Close()
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", time.Time{}, rs)
		return nil
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, `"`+hexd+`"`) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", fmt.Sprint(b.Size))
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Warn("sending artifact", "path", p, "err", err) // the status is sent already
	}
	return nil
}
