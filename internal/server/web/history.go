package web

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

// Geometry of the release history picture.
const (
	svgWidth   = 960
	svgLeft    = 120 // lane labels
	svgRight   = 16
	svgTop     = 8
	laneHeight = 30
	barHeight  = 18
	axisHeight = 26
	legendH    = 26
)

// Colours (WCAG AA against white, and white text on the bars).
const (
	colText     = "#1a202c"
	colGrid     = "#cbd5e0"
	colBarA     = "#2c5282"
	colBarB     = "#2b6cb0"
	colRevoked  = "#9b2c2c"
	colSecurity = "#b7410e"
	colBuild    = "#4a5568"
)

func (h *Handler) renderHistory(r *http.Request, product string) (page, error) {
	s, err := h.state(r.Context(), product)
	if err != nil {
		return page{}, err
	}
	svg := HistorySVG(s, h.opt.Now())
	return newPage(append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), svg...), "image/svg+xml; charset=utf-8"), nil
}

// HistorySVG draws a product's release history: a lane of builds (security
// releases and revocations marked) and one lane per channel with a bar per
// head, a step at each promotion, from the first build until now. Every
// mark has a <title> with its details (shown on hover). The output depends
// only on its inputs.
func HistorySVG(s release.State, now time.Time) []byte {
	lanes := historyLanes(s)
	t0, t1 := historySpan(s, now)
	g := svgGeom{t0: t0, t1: t1}
	height := svgTop + laneHeight*(len(lanes)+1) + axisHeight + legendH
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="history" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="history-title history-desc" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, "<title id=\"history-title\">Release history of %s</title>\n", esc(s.Product))
	fmt.Fprintf(&b, "<desc id=\"history-desc\">%d versions built from %s to %s; one lane per channel, a step at each promotion.</desc>\n",
		len(s.Images), t0.Format(time.DateOnly), t1.Format(time.DateOnly))
	builds(&b, s, g, svgTop)
	versions := make(map[string]string, len(s.Images))
	for _, img := range s.Images {
		versions[img.Name] = img.Version
	}
	moves := map[string][]catalog.HistoryEntry{}
	for _, h := range s.History {
		moves[h.Channel] = append(moves[h.Channel], h)
	}
	for i, ch := range lanes {
		channelLane(&b, s, g, ch, moves[ch], versions, svgTop+laneHeight*(i+1), t1)
	}
	axis(&b, g, svgTop+laneHeight*(len(lanes)+1))
	legend(&b, height-legendH+6)
	b.WriteString("</svg>\n")
	return b.Bytes()
}

type svgGeom struct{ t0, t1 time.Time }

func (g svgGeom) x(t time.Time) float64 {
	span := g.t1.Sub(g.t0)
	if span <= 0 {
		return svgLeft
	}
	w := float64(svgWidth - svgLeft - svgRight)
	return float64(svgLeft) + w*float64(t.Sub(g.t0))/float64(span)
}

// maxLineLanes is how many stable-X.Y lines the picture shows.
const maxLineLanes = 6

// historyLanes are the channels that ever had a head: the promotion order
// first, then other channels, then the newest maxLineLanes stable-X.Y
// lines, newest first.
func historyLanes(s release.State) []string {
	var lanes []string
	seen := map[string]bool{}
	for _, h := range s.History {
		if !seen[h.Channel] {
			seen[h.Channel] = true
			lanes = append(lanes, h.Channel)
		}
	}
	rank := map[string]int{}
	for i, c := range s.Policy.Channels {
		rank[c.Name] = i + 1
	}
	slices.SortFunc(lanes, func(a, b string) int {
		ra, rb := laneRank(rank, a), laneRank(rank, b)
		if ra != rb {
			return ra - rb
		}
		return -compareNatural(a, b)
	})
	lines := 0
	return slices.DeleteFunc(lanes, func(ch string) bool {
		if !strings.HasPrefix(ch, "stable-") {
			return false
		}
		lines++
		return lines > maxLineLanes
	})
}

func laneRank(rank map[string]int, ch string) int {
	if r, ok := rank[ch]; ok {
		return r
	}
	if strings.HasPrefix(ch, "stable-") {
		return 1000
	}
	return 999
}

func historySpan(s release.State, now time.Time) (time.Time, time.Time) {
	t0, t1 := now, now
	for _, img := range s.Images {
		t0 = minTime(t0, img.CreatedAt)
		t1 = maxTime(t1, img.CreatedAt)
	}
	for _, h := range s.History {
		t0, t1 = minTime(t0, h.At), maxTime(t1, h.At)
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Hour)
	}
	return t0, t1
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func laneLabel(b *bytes.Buffer, y int, text string) {
	fmt.Fprintf(b, `<text x="%d" y="%d" fill="%s" text-anchor="end">%s</text>`+"\n", svgLeft-8, y+laneHeight/2+4, colText, esc(text))
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", svgLeft, y+laneHeight, svgWidth-svgRight, y+laneHeight, colGrid)
}

// builds draws the builds lane: a tick per image, a diamond per security
// release, a cross per revocation. Oldest first, so later marks are on top.
func builds(b *bytes.Buffer, s release.State, g svgGeom, y int) {
	laneLabel(b, y, "builds")
	mid := float64(y + laneHeight/2)
	imgs := slices.Clone(s.Images)
	slices.Reverse(imgs)
	b.WriteString(`<g class="builds">` + "\n")
	for _, img := range imgs {
		x := g.x(img.CreatedAt)
		m := s.Marks[img.Name]
		switch {
		case m.Security:
			fmt.Fprintf(b, `<path d="M%.1f %.1fl6 7l-6 7l-6 -7z" fill="%s"><title>security release %s (%s)%s</title></path>`+"\n",
				x, mid-7, colSecurity, esc(img.Version), esc(img.Name), esc(advisoryText(m)))
		default:
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"><title>built %s (%s) %s</title></line>`+"\n",
				x, mid-6, x, mid+6, colBuild, esc(img.Version), esc(img.Name), img.CreatedAt.UTC().Format(time.DateTime))
		}
		if m.Revoked {
			at := m.RevokedAt
			if at.IsZero() {
				at = img.CreatedAt
			}
			rx := g.x(at)
			fmt.Fprintf(b, `<path d="M%.1f %.1fl10 10m0 -10l-10 10" stroke="%s" stroke-width="3"><title>revoked %s (%s): %s</title></path>`+"\n",
				rx-5, mid-5, colRevoked, esc(img.Version), esc(img.Name), esc(m.RevokedReason))
		}
	}
	b.WriteString("</g>\n")
}

func advisoryText(m catalog.Marks) string {
	var parts []string
	if len(m.Advisories) > 0 {
		parts = append(parts, strings.Join(m.Advisories, ", "))
	}
	if m.Severity != "" {
		parts = append(parts, "severity "+m.Severity)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

// channelLane draws one bar per head of the channel, from the promotion
// that made it the head to the next move (or end).
func channelLane(b *bytes.Buffer, s release.State, g svgGeom, ch string, moves []catalog.HistoryEntry, versions map[string]string, y int, end time.Time) {
	laneLabel(b, y, ch)
	fmt.Fprintf(b, `<g class="lane" data-channel="%s">`+"\n", esc(ch))
	top := float64(y + (laneHeight-barHeight)/2)
	for i, m := range moves {
		if m.Image == "" {
			continue // the channel was emptied
		}
		until := end
		if i+1 < len(moves) {
			until = moves[i+1].At
		}
		x0, x1 := g.x(m.At), g.x(until)
		w := max(x1-x0, 1.5)
		fill := colBarA
		if i%2 == 1 {
			fill = colBarB
		}
		note := ""
		if mk := s.Marks[m.Image]; mk.Revoked {
			fill, note = colRevoked, " (revoked: "+mk.RevokedReason+")"
		} else if mk.Security {
			note = " (security release)"
		}
		v := versions[m.Image]
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s: %s (%s)%s, %s to %s</title></rect>`+"\n",
			x0, top, w, barHeight, fill, esc(ch), esc(v), esc(m.Image), esc(note), m.At.UTC().Format(time.DateTime), untilText(i+1 < len(moves), until))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", x0, top-3, x0, top+barHeight+3, colText)
		if float64(7*len(v)+8) <= w {
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="#ffffff" aria-hidden="true">%s</text>`+"\n", x0+4, top+barHeight-5, esc(v))
		}
	}
	b.WriteString("</g>\n")
}

func untilText(moved bool, t time.Time) string {
	if !moved {
		return "now"
	}
	return t.UTC().Format(time.DateTime)
}

// axis draws dates under the lanes: the start, the end and three between.
func axis(b *bytes.Buffer, g svgGeom, y int) {
	b.WriteString(`<g class="axis">` + "\n")
	for i := 0; i <= 4; i++ {
		t := g.t0.Add(g.t1.Sub(g.t0) * time.Duration(i) / 4)
		x := g.x(t)
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", x, svgTop, x, y+4, colGrid)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="%s" text-anchor="%s">%s</text>`+"\n", x, y+18, colText, anchor, t.UTC().Format(time.DateOnly))
	}
	b.WriteString("</g>\n")
}

func legend(b *bytes.Buffer, y int) {
	b.WriteString(`<g class="legend">` + "\n")
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d" fill="%s">build</text>`+"\n",
		svgLeft, y, svgLeft, y+12, colBuild, svgLeft+8, y+10, colText)
	fmt.Fprintf(b, `<path d="M%d %dl6 7l-6 7l-6 -7z" fill="%s"/><text x="%d" y="%d" fill="%s">security release</text>`+"\n",
		svgLeft+70, y-1, colSecurity, svgLeft+80, y+10, colText)
	fmt.Fprintf(b, `<path d="M%d %dl10 10m0 -10l-10 10" stroke="%s" stroke-width="3"/><text x="%d" y="%d" fill="%s">revoked</text>`+"\n",
		svgLeft+210, y+1, colRevoked, svgLeft+226, y+10, colText)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="24" height="12" fill="%s"/><text x="%d" y="%d" fill="%s">channel head (a step at each promotion)</text>`+"\n",
		svgLeft+300, y, colBarA, svgLeft+330, y+10, colText)
	b.WriteString("</g>\n")
}

// esc escapes text for XML.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
