package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/recipe"
)

// Load reads everything the rules need about product from the catalog. The
// policy is the one of the product's newest image's recipe.
func Load(ctx context.Context, c catalog.Catalog, product string) (State, error) {
	imgs, err := c.ListImages(ctx, catalog.ListOptions{Product: product})
	if err != nil {
		return State{}, err
	}
	return LoadImages(ctx, c, product, imgs)
}

// LoadImages is Load for a caller that already listed product's images
// (newest first, as ListImages returns them).
func LoadImages(ctx context.Context, c catalog.Catalog, product string, imgs []catalog.Image) (State, error) {
	var err error
	if len(imgs) == 0 {
		return State{}, fmt.Errorf("%w product %q: the catalog has no image of it", ErrUnknown, product)
	}
	s := State{Product: product, Images: imgs, Heads: map[string]catalog.ChannelHead{}}
	if s.Policy, err = policyOf(imgs[0]); err != nil {
		s.Policy, s.PolicyWarning = PolicyOf(&recipe.Recipe{}), err.Error()+"; using the default policy"
	}
	if s.QA, err = latestQA(ctx, c, product, imgs); err != nil {
		return State{}, err
	}
	if s.Marks, err = c.ImageMarks(ctx, product); err != nil {
		return State{}, err
	}
	heads, err := c.ChannelHeads(ctx, product)
	if err != nil {
		return State{}, err
	}
	for _, h := range heads {
		s.Heads[h.Channel] = h
	}
	if s.History, err = c.ChannelHistory(ctx, product, ""); err != nil {
		return State{}, err
	}
	return s, nil
}

// BulkQA is implemented by catalogs that read the latest QA results of
// all a product's images at once (catalog/sqlite does); Load uses it
// instead of one LatestQA per image.
type BulkQA interface {
	LatestQAs(ctx context.Context, product string) (map[string]catalog.QAResult, error)
}

// latestQA returns the latest boot test of each tested image.
func latestQA(ctx context.Context, c catalog.Catalog, product string, imgs []catalog.Image) (map[string]catalog.QAResult, error) {
	if bulk, ok := c.(BulkQA); ok {
		return bulk.LatestQAs(ctx, product)
	}
	out := map[string]catalog.QAResult{}
	for _, img := range imgs {
		qa, err := c.LatestQA(ctx, img.Name)
		switch {
		case errors.Is(err, catalog.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			out[img.Name] = qa
		}
	}
	return out, nil
}

// policyOf reads the release policy from an image's effective recipe.
func policyOf(img catalog.Image) (Policy, error) {
	if len(img.Recipe) == 0 {
		return PolicyOf(&recipe.Recipe{}), nil
	}
	r, err := recipe.Parse(img.Name+" (recipe in catalog)", img.Recipe)
	if err != nil {
		return Policy{}, fmt.Errorf("reading the release policy of %s: %w", img.Product, err)
	}
	return PolicyOf(r), nil
}
