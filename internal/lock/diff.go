package lock

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/bakery-dev/bakery/internal/apt"
)

// Change is one package difference between two locks. From is empty for an
// added package, To for a removed one.
type Change struct {
	Name         string `json:"name"`
	Architecture string `json:"architecture"`
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
}

// ToolChange is a tool whose version differs.
type ToolChange struct {
	Name string `json:"name"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Changelog is what changed from one lock to the next: the image changelog.
type Changelog struct {
	Upgraded   []Change     `json:"upgraded"`
	Downgraded []Change     `json:"downgraded"`
	Added      []Change     `json:"added"`
	Removed    []Change     `json:"removed"`
	Rebuilt    []Change     `json:"rebuilt"` // same version, different content
	Tools      []ToolChange `json:"tools"`
}

// Empty reports whether nothing changed.
func (c Changelog) Empty() bool {
	return len(c.Upgraded)+len(c.Downgraded)+len(c.Added)+len(c.Removed)+len(c.Rebuilt)+len(c.Tools) == 0
}

// Diff compares two locks package by package (name and architecture),
// ordering versions with dpkg's rules. Lists are sorted by name.
func Diff(old, new *Lock) Changelog {
	c := Changelog{Upgraded: []Change{}, Downgraded: []Change{}, Added: []Change{}, Removed: []Change{}, Rebuilt: []Change{}, Tools: []ToolChange{}}
	before := byKey(old.Packages)
	after := byKey(new.Packages)
	for k, n := range after {
		o, ok := before[k]
		ch := Change{Name: n.Name, Architecture: n.Architecture, From: o.Version, To: n.Version}
		switch cmp := apt.CompareVersions(o.Version, n.Version); {
		case !ok:
			c.Added = append(c.Added, ch)
		case cmp < 0:
			c.Upgraded = append(c.Upgraded, ch)
		case cmp > 0:
			c.Downgraded = append(c.Downgraded, ch)
		case o.SHA256 != n.SHA256:
			c.Rebuilt = append(c.Rebuilt, ch)
		}
	}
	for k, o := range before {
		if _, ok := after[k]; !ok {
			c.Removed = append(c.Removed, Change{Name: o.Name, Architecture: o.Architecture, From: o.Version})
		}
	}
	c.Tools = diffTools(old.Tools, new.Tools)
	for _, l := range []*[]Change{&c.Upgraded, &c.Downgraded, &c.Added, &c.Removed, &c.Rebuilt} {
		slices.SortFunc(*l, func(a, b Change) int { return strings.Compare(a.Name+":"+a.Architecture, b.Name+":"+b.Architecture) })
	}
	return c
}

func byKey(pkgs []Package) map[string]Package {
	m := make(map[string]Package, len(pkgs))
	for _, p := range pkgs {
		m[p.Key()] = p
	}
	return m
}

func diffTools(old, new map[string]string) []ToolChange {
	out := []ToolChange{}
	names := map[string]bool{}
	for k := range old {
		names[k] = true
	}
	for k := range new {
		names[k] = true
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range names {
			if !yield(k) {
				return
			}
		}
	}) {
		if old[k] != new[k] {
			out = append(out, ToolChange{Name: k, From: old[k], To: new[k]})
		}
	}
	return out
}

// WriteText prints the changelog for people:
//
//	upgraded (1):
//	  apt 2.6.1 -> 2.6.2
func (c Changelog) WriteText(w io.Writer) error {
	if c.Empty() {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	sections := []struct {
		title string
		list  []Change
	}{{"upgraded", c.Upgraded}, {"downgraded", c.Downgraded}, {"added", c.Added}, {"removed", c.Removed}, {"rebuilt (same version, new content)", c.Rebuilt}}
	var b strings.Builder
	for _, s := range sections {
		if len(s.list) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s (%d):\n", s.title, len(s.list))
		for _, ch := range s.list {
			fmt.Fprintf(&b, "  %s\n", ch.line())
		}
	}
	if len(c.Tools) > 0 {
		fmt.Fprintf(&b, "tools (%d):\n", len(c.Tools))
		for _, t := range c.Tools {
			fmt.Fprintf(&b, "  %s: %s -> %s\n", t.Name, orNone(t.From), orNone(t.To))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (ch Change) line() string {
	name := ch.Name
	switch {
	case ch.From == "":
		return name + " " + ch.To
	case ch.To == "":
		return name + " " + ch.From
	}
	return fmt.Sprintf("%s %s -> %s", name, ch.From, ch.To)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
