package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/release"
)

type statusArg struct {
	Product string
	Status  release.ImageStatus
}

var funcs = template.FuncMap{
	"date":    func(t time.Time) string { return fmtTime(t, time.DateOnly) },
	"when":    func(t time.Time) string { return fmtTime(t, "2006-01-02 15:04 UTC") },
	"iso":     func(t time.Time) string { return fmtTime(t, time.RFC3339) },
	"size":    humanSize,
	"join":    strings.Join,
	"esc":     pathEscape,
	"short":   func(s string) string { return shorten(s, 12) },
	"dur":     func(d time.Duration) string { return d.Round(100 * time.Millisecond).String() },
	"status":  func(p string, st release.ImageStatus) statusArg { return statusArg{p, st} },
	"sel":     func(a, b string) bool { return a == b },
	"product": func(p string) string { return "/products/" + pathEscape(p) },
	"version": func(p, img string) string { return "/products/" + pathEscape(p) + "/" + pathEscape(img) },
}

func fmtTime(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func shorten(s string, n int) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) <= n {
		return s
	}
	return s[:n]
}
