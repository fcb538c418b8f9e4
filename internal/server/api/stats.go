package api

import (
	"context"
	"slices"

	"github.com/bakery-dev/bakery/internal/server/metrics"
)

// Metrics is a metrics collector of the catalog: images (builds) and
// revoked images by product, products, QA verdicts of each image's latest
// test, release events and the time of the newest. It reads the same
// snapshot the API answers from.
func (l *Local) Metrics(ctx context.Context) ([]metrics.Family, error) {
	s, err := l.current(ctx)
	if err != nil {
		return nil, err
	}
	products := make([]string, 0, len(s.states))
	for p := range s.states {
		products = append(products, p)
	}
	slices.Sort(products)
	images := metrics.Family{Name: "bakery_catalog_images", Help: "Images (builds) recorded in the catalog, by product.", Type: "gauge"}
	revoked := metrics.Family{Name: "bakery_catalog_revoked_images", Help: "Revoked images, by product.", Type: "gauge"}
	for _, p := range products {
		st := s.states[p]
		n := 0
		for _, m := range st.Marks {
			if m.Revoked {
				n++
			}
		}
		images.Samples = append(images.Samples, metrics.Sample{Labels: [][2]string{{"product", p}}, Value: float64(len(st.Images))})
		revoked.Samples = append(revoked.Samples, metrics.Sample{Labels: [][2]string{{"product", p}}, Value: float64(n)})
	}
	verdicts := map[string]float64{"pass": 0, "fail": 0, "untested": 0}
	for _, e := range s.entries {
		switch {
		case e.QA == nil:
			verdicts["untested"]++
		case e.QA.Passed:
			verdicts["pass"]++
		default:
			verdicts["fail"]++
		}
	}
	qa := metrics.Family{Name: "bakery_catalog_qa_verdicts", Help: "Images by the verdict of their latest boot test.", Type: "gauge"}
	for _, v := range []string{"pass", "fail", "untested"} {
		qa.Samples = append(qa.Samples, metrics.Sample{Labels: [][2]string{{"verdict", v}}, Value: verdicts[v]})
	}
	evs, err := l.Catalog.Events(ctx, "")
	if err != nil {
		return nil, err
	}
	fams := []metrics.Family{images, revoked, qa,
		{Name: "bakery_catalog_products", Help: "Products in the catalog.", Type: "gauge", Samples: []metrics.Sample{{Value: float64(len(products))}}},
		{Name: "bakery_catalog_release_events", Help: "Release actions in the audit log.", Type: "gauge", Samples: []metrics.Sample{{Value: float64(len(evs))}}},
	}
	if len(evs) > 0 {
		last := float64(evs[len(evs)-1].At.UnixNano()) / 1e9
		fams = append(fams, metrics.Family{Name: "bakery_catalog_last_release_event_timestamp_seconds", Help: "When the newest release action was recorded.", Type: "gauge", Samples: []metrics.Sample{{Value: last}}})
	}
	return fams, nil
}
