package build

import (
	"context"
	"errors"
	"fmt"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/catalog"
)

// Reusable returns the recorded image that a prepared build would
// reproduce: for a locked build, the newest image in the catalog with the
// same build ID whose artifacts are all still in the store. An unlocked
// build is never reused (its build ID includes its own name).
func Reusable(ctx context.Context, cat catalog.Reader, st artifact.Store, p Params) (catalog.Image, bool, error) {
	if p.Lock == nil || p.Identity.BuildID == "" {
		return catalog.Image{}, false, nil
	}
	imgs, err := cat.ListImages(ctx, catalog.ListOptions{BuildID: p.Identity.BuildID})
	if err != nil {
		return catalog.Image{}, false, fmt.Errorf("looking for build %s: %w", p.Identity.BuildID, err)
	}
	for _, img := range imgs {
		ok, err := artifactsStored(ctx, st, img)
		if err != nil {
			return catalog.Image{}, false, err
		}
		if ok {
			return img, true, nil
		}
	}
	return catalog.Image{}, false, nil
}

// artifactsStored reports whether every artifact of img is in the store.
func artifactsStored(ctx context.Context, st artifact.Store, img catalog.Image) (bool, error) {
	for _, a := range img.Artifacts {
		_, err := st.Stat(ctx, a.Digest)
		if errors.Is(err, artifact.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("checking %s of %s: %w", a.Filename, img.Name, err)
		}
	}
	return true, nil
}
