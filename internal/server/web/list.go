package web

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// base is what every page's layout needs.
type base struct {
	Title  string
	Crumbs []crumb
}

type crumb struct{ Name, URL string }

type errorPage struct {
	base
	Code    int
	Message string
}

// Filter is the product list's query: each field empty for any.
type Filter struct {
	Distro, Release, Arch, Channel, Q string
}

func filterOf(r *http.Request) Filter {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return Filter{Distro: get("distro"), Release: get("release"), Arch: get("arch"), Channel: get("channel"), Q: get("q")}
}

type listPage struct {
	base
	Filter                           Filter
	Distros, Releases, Arches, Chans []string
	Products                         []productRow
	Total                            int
}

type productRow struct {
	Name, Distro, Release, Arch string
	Versions                    int
	Newest                      catalog.Image
	Heads                       []headRow
	Matches                     []string // versions that matched the search, when only they did
	versions                    []string // every version, newest first
}

type headRow struct {
	Channel, Image, Version string
	Since                   time.Time
}

func (h *Handler) renderList(r *http.Request) (page, error) {
	ctx := r.Context()
	imgs, err := h.opt.Catalog.ListImages(ctx, catalog.ListOptions{})
	if err != nil {
		return page{}, err
	}
	rows, err := h.productRows(r, imgs)
	if err != nil {
		return page{}, err
	}
	lp := listPage{base: base{Title: "Images"}, Filter: filterOf(r), Total: len(rows)}
	lp.Distros, lp.Releases, lp.Arches, lp.Chans = choices(rows)
	for _, row := range rows {
		if ok, matches := lp.Filter.match(row); ok {
			row.Matches = matches
			lp.Products = append(lp.Products, row)
		}
	}
	return h.html("list.html", lp)
}

// productRows groups images (newest first) by product, with each
// product's channel heads.
func (h *Handler) productRows(r *http.Request, imgs []catalog.Image) ([]productRow, error) {
	byName := map[string]*productRow{}
	var order []string
	versions := map[string]map[string]string{} // product → image → version
	for _, img := range imgs {
		row, ok := byName[img.Product]
		if !ok {
			row = &productRow{Name: img.Product, Distro: img.Distro, Release: img.Release, Arch: img.Arch, Newest: img}
			byName[img.Product], versions[img.Product] = row, map[string]string{}
			order = append(order, img.Product)
		}
		row.Versions++
		row.versions = append(row.versions, img.Version)
		versions[img.Product][img.Name] = img.Version
	}
	slices.Sort(order)
	out := make([]productRow, 0, len(order))
	for _, name := range order {
		row := byName[name]
		heads, err := h.opt.Catalog.ChannelHeads(r.Context(), name)
		if err != nil {
			return nil, err
		}
		for _, hd := range heads {
			if hd.Image != "" {
				row.Heads = append(row.Heads, headRow{Channel: hd.Channel, Image: hd.Image, Version: versions[name][hd.Image], Since: hd.Since})
			}
		}
		sortHeads(row.Heads)
		out = append(out, *row)
	}
	return out, nil
}

// sortHeads puts the promotion channels first (devel, rolling, stable),
// then the stable-X.Y lines, newest line first.
func sortHeads(hs []headRow) {
	rank := func(c string) int {
		switch c {
		case "devel":
			return 0
		case "rolling":
			return 1
		case "stable":
			return 2
		}
		if strings.HasPrefix(c, "stable-") {
			return 4
		}
		return 3
	}
	slices.SortStableFunc(hs, func(a, b headRow) int {
		if ra, rb := rank(a.Channel), rank(b.Channel); ra != rb {
			return ra - rb
		}
		return -compareNatural(a.Channel, b.Channel)
	})
}

// compareNatural compares strings with runs of digits by number.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

func choices(rows []productRow) (distros, releases, arches, chans []string) {
	add := func(list *[]string, v string) {
		if v != "" && !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, r := range rows {
		add(&distros, r.Distro)
		add(&releases, r.Release)
		add(&arches, r.Arch)
		for _, hd := range r.Heads {
			if !strings.HasPrefix(hd.Channel, "stable-") {
				add(&chans, hd.Channel)
			}
		}
	}
	for _, l := range []*[]string{&distros, &releases, &arches} {
		slices.Sort(*l)
	}
	order := map[string]int{"devel": 0, "rolling": 1, "stable": 2}
	slices.SortFunc(chans, func(a, b string) int {
		oa, ok := order[a]
		if !ok {
			oa = 3
		}
		ob, ok := order[b]
		if !ok {
			ob = 3
		}
		if oa != ob {
			return oa - ob
		}
		return strings.Compare(a, b)
	})
	return distros, releases, arches, chans
}

// match reports whether a product passes the filter and, for a search
// that matched only some versions, which.
func (f Filter) match(row productRow) (bool, []string) {
	if (f.Distro != "" && row.Distro != f.Distro) || (f.Release != "" && row.Release != f.Release) ||
		(f.Arch != "" && row.Arch != f.Arch) {
		return false, nil
	}
	if f.Channel != "" && !slices.ContainsFunc(row.Heads, func(h headRow) bool { return h.Channel == f.Channel }) {
		return false, nil
	}
	q := strings.ToLower(f.Q)
	if q == "" || strings.Contains(strings.ToLower(row.Name), q) {
		return true, nil
	}
	var matches []string
	for _, v := range row.versions {
		if strings.Contains(strings.ToLower(v), q) && !slices.Contains(matches, v) {
			matches = append(matches, v)
		}
	}
	return len(matches) > 0, matches
}

func (h *Handler) html(name string, data any) (page, error) {
	var b bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return page{}, fmt.Errorf("rendering %s: %w", name, err)
	}
	return newPage(b.Bytes(), "text/html; charset=utf-8"), nil
}
