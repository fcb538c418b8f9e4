package release

import (
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
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
