package hygiene

import "testing"

func TestZZHost(t *testing.T) {
	for _, r := range Check("/") {
		if len(r.Found) > 6 {
			r.Found = append(r.Found[:6], "...")
		}
		t.Logf("%+v", r)
	}
}
