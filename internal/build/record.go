package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
)

// record stores every output in the artifact store (digest re-checked) and
// only then adds the image to the catalog, so the catalog never names an
// artifact that is missing or unverified.
func record(ctx context.Context, ws *Workspace, p Params, o Options) (Result, error) {
	img := newImage(ws, p)
	arts, err := storeOutputs(ctx, ws, o.Store)
	if err != nil {
		return Result{}, err
	}
	img.Artifacts = arts
	if err := o.Catalog.AddImage(ctx, img); err != nil {
		return Result{}, fmt.Errorf("recording image %s: %w", img.Name, err)
	}
	paths, err := LinkImage(o.Store, o.ImagesDir, img)
	if err != nil {
		o.Logger.Warn("linking image files", "image", img.Name, "err", err)
	}
	return Result{Image: img, Paths: paths}, nil
}

func newImage(ws *Workspace, p Params) catalog.Image {
	id := p.Identity
	img := catalog.Image{
		Name: id.Name, Product: id.Product, Version: id.Version, Serial: id.Serial,
		Distro: id.Distro, Release: id.Release, Arch: id.Arch, BuildID: id.BuildID,
		RecipeDigest: p.Recipe.Digest(), Recipe: p.Recipe.YAML(), CreatedAt: p.Created,
		BuildDuration: time.Since(p.Started).Round(time.Millisecond), Tools: p.Tools,
	}
	for _, pk := range ws.Packages {
		img.Packages = append(img.Packages, catalog.Package{Name: pk.Name, Version: pk.Version, Arch: pk.Arch})
	}
	for _, r := range ws.Hygiene {
		img.Hygiene = append(img.Hygiene, catalog.Check{Name: r.Rule, Passed: r.Passed, Detail: r.Detail, Found: r.Found})
	}
	return img
}

// storeOutputs stores the outputs concurrently (the store re-hashes and
// syncs each, and the raw disk alone takes seconds) and lists them in
// their order.
func storeOutputs(ctx context.Context, ws *Workspace, st artifact.Store) ([]catalog.Artifact, error) {
	outs := ws.Artifacts
	arts := make([]catalog.Artifact, len(outs))
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	for i, out := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arts[i], errs[i] = storeOutput(ctx, ws, st, out)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return arts, nil
}

func storeOutput(ctx context.Context, ws *Workspace, st artifact.Store, out Output) (catalog.Artifact, error) {
	digest, size, err := ws.Digest(out) // hashed once, by the manifest stage, except the manifest itself
	if err != nil {
		return catalog.Artifact{}, err
	}
	if ad, ok := st.(artifact.Adopter); ok {
		err = ad.Adopt(ctx, digest, out.Path)
	} else {
		err = putFile(ctx, st, digest, out.Path)
	}
	if err != nil {
		return catalog.Artifact{}, fmt.Errorf("storing %s: %w", out.Filename, err)
	}
	return catalog.Artifact{Kind: out.Kind, Filename: out.Filename, Digest: digest, Size: size}, nil
}

func putFile(ctx context.Context, st artifact.Store, digest, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return st.Put(ctx, digest, f)
}

// LinkImage hard-links (or symlinks, across filesystems) each stored
// artifact to dir/NAME/FILENAME and returns those paths by kind.
func LinkImage(st artifact.Store, dir string, img catalog.Image) (map[string]string, error) {
	loc, ok := st.(artifact.Locator)
	if !ok || dir == "" {
		return nil, nil
	}
	paths := map[string]string{}
	var errs []error
	for _, a := range img.Artifacts {
		src, err := loc.Path(a.Digest)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dst := filepath.Join(dir, img.Name, a.Filename)
		if err := link(src, dst); err != nil {
			errs = append(errs, err)
			continue
		}
		paths[a.Kind] = dst
	}
	return paths, errors.Join(errs...)
}

func link(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	_ = os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return os.Symlink(src, dst)
}

func freeBytes(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// Checksum is the plain hex sha256 of a digest ("sha256:abc" → "abc"), as
// sha256sum prints it.
func Checksum(digest string) string { return strings.TrimPrefix(digest, "sha256:") }
