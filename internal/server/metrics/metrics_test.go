package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// line is one sample line of the text format.
var line = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eInf]+$`)

func TestExposition(t *testing.T) {
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/images/{name}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	h := m.Middleware(mux, Route("/streams/", "/healthz"))
	for _, p := range []string{"/api/v1/images/a", "/api/v1/images/b", "/streams/v1/index.json"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	m.Observe("slow", "GET", 200, 3*time.Second)
	m.Register(func(context.Context) ([]Family, error) {
		return []Family{{Name: "bakery_images", Help: "images", Type: "gauge", Samples: []Sample{{Labels: [][2]string{{"product", `we"ird`}}, Value: 3}}}}, nil
	})
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	out := w.Body.String()
	for _, want := range []string{
		`bakery_http_requests_total{route="GET /api/v1/images/{name}",method="GET",code="404"} 2`,
		`bakery_http_requests_total{route="/",method="GET",code="200"} 1`,
		`bakery_http_request_duration_seconds_bucket{route="slow",le="2.5"} 0`,
		`bakery_http_request_duration_seconds_bucket{route="slow",le="5"} 1`,
		`bakery_http_request_duration_seconds_count{route="slow"} 1`,
		`bakery_images{product="we\"ird"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "# ") && !line.MatchString(l) {
			t.Errorf("bad sample line %q", l)
		}
	}
}

func TestRouteLabel(t *testing.T) {
	route := Route("/streams/", "/healthz", "/products/")
	for path, want := range map[string]string{
		"/streams/v1/index.json": "/streams/", "/healthz": "/healthz", "/healthzz": "other",
		"/products/x": "/products/", "/random/" + strings.Repeat("x", 9): "other",
	} {
		if got := route(httptest.NewRequest("GET", path, nil)); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}
