package feed

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/version"
)

// lines builds a plain-text body of "Label: value" lines, skipping empty
// values.
type lines []string

func (l *lines) add(label, value string) {
	if value != "" {
		*l = append(*l, label+": "+value)
	}
}

func (l lines) text() Text { return Text{Type: "text", Body: strings.Join(l, "\n")} }

func builtEntry(p Product, img catalog.Image, o Options) Entry {
	e := entry(p, tagID(o, img.CreatedAt, img.Product, "image", img.Name),
		fmt.Sprintf("%s %s built (%s)", img.Product, img.Version, img.Name), img.CreatedAt, o.Author, o)
	e.Categories = []Category{{Term: catalog.HookBuilt}}
	var l lines
	l.add("Image", img.Name)
	l.add("Version", img.Version)
	l.add("Serial", img.Serial)
	l.add("System", strings.TrimSpace(strings.Join([]string{img.Distro, img.Release, img.Arch}, " ")))
	l.add("Build ID", img.BuildID)
	for _, a := range img.Artifacts {
		l.add("Artifact", fmt.Sprintf("%s (%s, %s bytes, %s)", a.Filename, a.Kind, strconv.FormatInt(a.Size, 10), a.Digest))
	}
	if m := p.State.Marks[img.Name]; m.Revoked {
		l.add("Now", "REVOKED: "+m.RevokedReason)
	}
	e.Content = l.text()
	return e
}

// eventEntry makes the entry of one audit log event; events of other
// actions have none.
func eventEntry(p Product, ev catalog.Event, o Options) (Entry, bool) {
	t, ok := eventTitle(ev)
	if !ok {
		return Entry{}, false
	}
	e := entry(p, tagID(o, ev.At, ev.Product, "event", strconv.FormatInt(ev.ID, 10)), t, ev.At, ev.Actor, o)
	hook, _ := catalog.EventPayload(ev)
	e.Categories = []Category{{Term: hook.Event}}
	var l lines
	l.add("Image", ev.Image)
	l.add("Version", ev.Version)
	l.add("Channel", ev.Channel)
	l.add("By", ev.Actor)
	l.add("Reason", ev.Reason)
	l.add("Forced past gates", strings.Join(ev.Forced, ", "))
	for _, m := range ev.Moves {
		l.add("Moved "+m.Channel, orNone(m.From)+" -> "+orNone(m.To))
	}
	if m, ok := eventMarks(ev); ok && m.Security {
		e.Categories = append(e.Categories, securityCategories(m)...)
		l = append(l, securityLines(p, ev, m)...)
	}
	if m := p.State.Marks[ev.Image]; m.Revoked && ev.Action != catalog.ActionRevoke {
		l.add("Now", "REVOKED: "+m.RevokedReason)
	}
	e.Content = l.text()
	return e, true
}

func eventTitle(ev catalog.Event) (string, bool) {
	what := ev.Product + " " + ev.Version
	switch ev.Action {
	case catalog.ActionPromote:
		return what + " promoted to " + ev.Channel, true
	case catalog.ActionHotfix:
		return what + " hotfix promoted to " + ev.Channel, true
	case catalog.ActionUnrevoke:
		return what + " unrevoked", true
	case catalog.ActionRevoke:
		if m, ok := eventMarks(ev); ok && m.Security {
			return what + " revoked (it was a security release)", true
		}
		return what + " revoked", true
	case catalog.ActionSecurityRelease:
		m, _ := eventMarks(ev)
		return fmt.Sprintf("Security release %s: %s (%s)", what, strings.Join(m.Advisories, ", "), m.Severity), true
	}
	return "", false
}

func securityCategories(m catalog.Marks) []Category {
	cs := []Category{{Term: "security"}}
	if m.Severity != "" {
		cs = append(cs, Category{Term: "severity-" + m.Severity, Label: "severity " + m.Severity})
	}
	for _, a := range m.Advisories {
		cs = append(cs, Category{Term: a, Label: "advisory " + a})
	}
	return cs
}

// securityLines describe a security release: advisories, severity, fixed
// packages, and the line it is on with the older versions it supersedes.
func securityLines(p Product, ev catalog.Event, m catalog.Marks) lines {
	var l lines
	l.add("Advisories", strings.Join(m.Advisories, ", "))
	l.add("Severity", m.Severity)
	l.add("Fixed packages", strings.Join(m.Fixed, ", "))
	line, affected := affected(p, ev.Image)
	if line != "" {
		l.add("Affected line", line+" (channel stable-"+line+")")
		l.add("Superseded versions", strings.Join(affected, ", "))
	}
	return l
}

// affected returns the line of the image and the older versions on it that
// are not revoked, oldest first: those a security release supersedes.
func affected(p Product, image string) (string, []string) {
	s := p.State
	var v version.Version
	found := false
	for _, img := range s.Images {
		if img.Name == image {
			var err error
			v, err = s.Version(img)
			found = err == nil
		}
	}
	if !found || v.Kind != version.Stable {
		return "", nil
	}
	var out []string
	for _, img := range s.Images { // newest first
		ov, err := s.Version(img)
		if err != nil || s.Marks[img.Name].Revoked || !ov.SameLine(v) || version.Compare(ov, v) >= 0 || slices.Contains(out, img.Version) {
			continue
		}
		out = append([]string{img.Version}, out...)
	}
	return v.Line(), out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
