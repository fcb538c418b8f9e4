package release

import (
	"slices"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// ImageStatus is what the release process says about one image, for
// listings: the channels it leads, whether it is revoked, whether a newer
// security release supersedes it, and its line's support.
type ImageStatus struct {
	Channels      []string      `json:"channels"`
	Marks         catalog.Marks `json:"marks"`
	SupersededBy  string        `json:"superseded_by,omitempty"` // a newer security release on the line
	Line          string        `json:"line,omitempty"`
	LineStatus    string        `json:"line_status,omitempty"`
	EndOfLife     time.Time     `json:"end_of_life,omitzero"`
	SchemeInvalid string        `json:"scheme_error,omitempty"` // the version does not follow the product's scheme
}

// Status returns img's release status at now.
func (s State) Status(img catalog.Image, now time.Time) ImageStatus {
	st := ImageStatus{Channels: s.channelsAt(img.Name), Marks: s.Marks[img.Name]}
	if st.Channels == nil {
		st.Channels = []string{}
	}
	if _, err := s.Version(img); err != nil {
		st.SchemeInvalid = err.Error()
		return st
	}
	if sup, ok := s.SupersededBy(img); ok {
		st.SupersededBy = sup.Name
	}
	if ls, ok := s.LineEOL(img, now); ok {
		st.Line, st.LineStatus, st.EndOfLife = ls.Line, ls.Status, ls.EOL
	}
	return st
}

// Summary is a short text for a table column: revoked, superseded, EOL or
// the channels the image leads.
func (st ImageStatus) Summary() string {
	switch {
	case st.Marks.Revoked:
		return "REVOKED"
	case st.SupersededBy != "":
		return "SUPERSEDED (security)"
	case st.LineStatus == StatusEndOfLife:
		return "end-of-life"
	}
	out := ""
	for i, c := range st.Channels {
		if i > 0 {
			out += ","
		}
		out += c
	}
	if st.Marks.Security {
		if out != "" {
			out += " "
		}
		out += "security"
	}
	if out == "" {
		return "-"
	}
	return out
}

// Statuses returns the Status of every image by name, as Status would,
// reading the product's line support and security releases once (Status
// alone costs a pass over the whole history per image).
func (s State) Statuses(now time.Time) map[string]ImageStatus {
	lines := map[string]LineSupport{}
	for _, ls := range s.Support(now) {
		lines[ls.Line] = ls
	}
	channels := map[string][]string{}
	for ch, h := range s.Heads {
		channels[h.Image] = append(channels[h.Image], ch)
	}
	type parsed struct {
		img catalog.Image
		v   version.Version
	}
	security := map[string][]parsed{} // good security releases by line
	versions := make(map[string]version.Version, len(s.Images))
	errs := map[string]error{}
	for _, img := range s.Images {
		v, err := s.Version(img)
		if err != nil {
			errs[img.Name] = err
			continue
		}
		versions[img.Name] = v
		if m := s.Marks[img.Name]; m.Security && !m.Revoked && v.Kind != version.Devel {
			security[v.Line()] = append(security[v.Line()], parsed{img, v})
		}
	}
	out := make(map[string]ImageStatus, len(s.Images))
	for _, img := range s.Images {
		st := ImageStatus{Channels: channels[img.Name], Marks: s.Marks[img.Name]}
		slices.Sort(st.Channels)
		if st.Channels == nil {
			st.Channels = []string{}
		}
		if err, bad := errs[img.Name]; bad {
			st.SchemeInvalid = err.Error()
			out[img.Name] = st
			continue
		}
		v := versions[img.Name]
		var best *parsed
		for i, sec := range security[v.Line()] { // none for devel versions
			if version.Compare(sec.v, v) > 0 && (best == nil || version.Compare(sec.v, best.v) > 0) {
				best = &security[v.Line()][i]
			}
		}
		if best != nil {
			st.SupersededBy = best.img.Name
		}
		if ls, ok := lines[v.Line()]; ok {
			st.Line, st.LineStatus, st.EndOfLife = ls.Line, ls.Status, ls.EOL
		}
		out[img.Name] = st
	}
	return out
}
