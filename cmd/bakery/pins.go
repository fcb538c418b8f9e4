package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bakery-dev/bakery/internal/atomicfile"
	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/release"
	versions "github.com/bakery-dev/bakery/internal/version"
)

func runPins(ctx context.Context, g *globals, args []string) error {
	fset := g.flagSet("pins", "bakery pins [--channel stable] [--output FILE] PRODUCT... (pinned versions for deployment tooling; BAKERY_VERSIONS_OVERRIDE overrides)")
	channel := fset.String("channel", "stable", "the channel whose heads are pinned")
	output := fset.String("output", "", "write the pins file here (atomically) instead of standard output")
	if err := parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() == 0 {
		return usagef("pins needs at least one PRODUCT")
	}
	overrides, err := versionOverrides(g)
	if err != nil {
		return usagef("%v", err)
	}
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	pins := map[string]release.Pin{}
	var list []release.Pin
	for _, product := range fset.Args() {
		pin, err := svc.Pin(ctx, product, *channel, overrides[product])
		if err != nil {
			return usageOf(err)
		}
		pins[product] = pin
		list = append(list, pin)
	}
	if g.json && *output == "" {
		return printJSON(g, list)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# bakery pins: heads of channel %s, %s\n", *channel, time.Now().UTC().Format(time.RFC3339))
	if len(overrides) > 0 {
		fmt.Fprintf(&b, "# overridden by BAKERY_VERSIONS_OVERRIDE: entries marked override: true\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(pins); err != nil {
		return err
	}
	if *output == "" {
		_, err := g.stdout.Write(b.Bytes())
		return err
	}
	return atomicfile.Write(*output, b.Bytes(), 0o644)
}

// versionOverrides reads BAKERY_VERSIONS_OVERRIDE: a file (YAML mapping
// product: version, or product=version lines) or inline
// "product=version,product=version".
func versionOverrides(g *globals) (map[string]string, error) {
	v, ok := g.getenv("BAKERY_VERSIONS_OVERRIDE")
	if !ok || strings.TrimSpace(v) == "" {
		return nil, nil
	}
	if strings.Contains(v, "=") && !strings.ContainsRune(v, filepath.Separator) {
		return release.ParseOverrides(v)
	}
	data, err := os.ReadFile(v)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("BAKERY_VERSIONS_OVERRIDE: %s is neither product=version pairs nor a file", v)
	}
	if err != nil {
		return nil, fmt.Errorf("BAKERY_VERSIONS_OVERRIDE: %w", err)
	}
	var m map[string]string
	if yaml.Unmarshal(data, &m) == nil && len(m) > 0 {
		return m, nil
	}
	return release.ParseOverrides(strings.ReplaceAll(string(data), "\n", ","))
}

// runVersion prints bakery's version, or answers the version schemes'
// rules for scripts: compare and next.
func runVersion(_ context.Context, g *globals, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "compare":
			return versionCompare(g, args[1:])
		case "next":
			return versionNext(g, args[1:])
		}
	}
	fset := g.flagSet("version", "bakery version | bakery version compare [--scheme S] A B | bakery version next [--scheme S] --bump B CURRENT")
	if err := parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() != 0 {
		return usagef("version: unknown subcommand %q (compare, next)", fset.Arg(0))
	}
	if g.json {
		return printJSON(g, map[string]string{"version": version, "build_format": build.FormatSalt})
	}
	fmt.Fprintf(g.stdout, "bakery %s (build format %s)\n", version, build.FormatSalt)
	return nil
}

func schemeFlag(fset interface {
	String(name, value, usage string) *string
}) *string {
	return fset.String("scheme", versions.SemverSecurity, "version scheme: "+strings.Join(versions.Schemes(), ", "))
}

func versionCompare(g *globals, args []string) error {
	fset := g.flagSet("version compare", "bakery version compare [--scheme S] A B (prints -1, 0 or 1)")
	scheme := schemeFlag(fset)
	if err := parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() != 2 {
		return usagef("version compare needs two versions")
	}
	var vs [2]versions.Version
	for i := range vs {
		v, err := versions.Parse(*scheme, fset.Arg(i))
		if err != nil {
			return usagef("%v", err)
		}
		vs[i] = v
	}
	c := versions.Compare(vs[0], vs[1])
	if g.json {
		return printJSON(g, map[string]any{"a": vs[0].String(), "b": vs[1].String(), "compare": c,
			"same_line": vs[0].SameLine(vs[1]), "needs_disruption": versions.NeedsDisruption(vs[0], vs[1])})
	}
	fmt.Fprintln(g.stdout, c)
	return nil
}

func versionNext(g *globals, args []string) error {
	fset := g.flagSet("version next", "bakery version next [--scheme S] --bump major|minor|patch|rolling|devel [--date YYYY-MM-DD] [--serial S] [--disruptive] CURRENT")
	scheme := schemeFlag(fset)
	bump := fset.String("bump", "", "major, minor, patch (security release or hotfix), rolling or devel")
	date := fset.String("date", "", "calver: the release date of a new line (default today, UTC)")
	serial := fset.String("serial", "", "calver devel: the build serial")
	disruptive := fset.Bool("disruptive", false, "the patch needs machines drained or recreated (+evacuationN counts up)")
	if err := parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() != 1 || *bump == "" {
		return usagef("version next needs --bump and the CURRENT version")
	}
	cur, err := versions.Parse(*scheme, fset.Arg(0))
	if err != nil {
		return usagef("%v", err)
	}
	day := time.Now().UTC()
	if *date != "" {
		if day, err = time.Parse("2006-01-02", *date); err != nil {
			return usagef("--date %q: want YYYY-MM-DD", *date)
		}
	}
	next, err := versions.Next(cur, versions.NextOptions{Bump: versions.Bump(*bump), Date: day, Serial: *serial, Disruptive: *disruptive})
	if err != nil {
		return usagef("%v", err)
	}
	if g.json {
		return printJSON(g, map[string]any{"current": cur.String(), "next": next.String(), "bump": *bump,
			"needs_disruption": versions.NeedsDisruption(cur, next)})
	}
	fmt.Fprintln(g.stdout, next)
	return nil
}
