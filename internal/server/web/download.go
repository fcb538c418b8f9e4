package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
)

// download answers /download/IMAGE/FILE: an artifact of the image, or of
// its latest QA run, from the artifact store (Range and If-None-Match
// answered when the store keeps local files).
func (h *Handler) download(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/download/")
	image, file, ok := strings.Cut(rest, "/")
	if !ok || image == "" || file == "" || strings.Contains(file, "/") {
		return fmt.Errorf("%w: %s", errNotFound, r.URL.Path)
	}
	a, img, err := h.findArtifact(r, image, file)
	if err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType(file))
	hdr.Set("ETag", `"`+a.Digest+`"`)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": file}))
	if loc, ok := h.opt.Store.(artifact.Locator); ok {
		p, err := loc.Path(a.Digest)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("opening %s: %w", file, err)
		}
		defer f.Close()
		http.ServeContent(w, r, "", img.CreatedAt, f)
		return nil
	}
	rc, err := h.opt.Store.Open(r.Context(), a.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	if etagMatch(r.Header.Get("If-None-Match"), `"`+a.Digest+`"`) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hdr.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, rc)
	}
	return nil
}

func (h *Handler) findArtifact(r *http.Request, image, file string) (catalog.Artifact, catalog.Image, error) {
	img, err := h.opt.Catalog.GetImage(r.Context(), image)
	if err != nil {
		return catalog.Artifact{}, img, err
	}
	for _, a := range img.Artifacts {
		if a.Filename == file {
			return a, img, nil
		}
	}
	qa, err := h.opt.Catalog.LatestQA(r.Context(), image)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return catalog.Artifact{}, img, err
	}
	for _, a := range qa.Artifacts {
		if a.Filename == file {
			return a, img, nil
		}
	}
	return catalog.Artifact{}, img, fmt.Errorf("%w: %s has no file %s", errNotFound, image, file)
}

func contentType(file string) string {
	switch ext := path.Ext(file); ext {
	case ".json":
		return "application/json"
	case ".log", ".txt", ".sh":
		return "text/plain; charset=utf-8"
	case ".xml":
		return "application/xml"
	}
	return "application/octet-stream"
}

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

func itoa(n int) string { return strconv.Itoa(n) }
