package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/runner"
)

// serviceMatrix is `bakery services --json`.
type serviceMatrix struct {
	Repo     string               `json:"repo"`
	Ref      string               `json:"ref"`
	Commit   string               `json:"commit"`
	Version  string               `json:"version,omitempty"`
	Services []configtree.Service `json:"services"`
}

func runServices(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("services", "bakery services [--json] RECIPE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("services needs exactly one recipe file (got %d arguments)", fs.NArg())
	}
	r, err := loadRecipe(g, fs.Arg(0))
	if err != nil {
		return err
	}
	if r.Config == nil {
		return usagef("%s has no config section: no Puppet tree to read", fs.Arg(0))
	}
	state, err := g.state()
	if err != nil {
		return err
	}
	t, err := build.ResolveConfig(ctx, build.Options{Recipe: r, RecipeDir: filepath.Dir(fs.Arg(0)),
		CacheDir: filepath.Join(state, "cache"), Runner: runner.Exec{}, Logger: g.logger()})
	if err != nil {
		return err
	}
	svcs, err := t.Services()
	if err != nil {
		return err
	}
	m := serviceMatrix{Repo: t.Repo, Ref: t.Ref, Commit: t.Commit, Version: t.Version(), Services: svcs}
	if g.json {
		return printJSON(g, m)
	}
	return printServices(g, m)
}

func printServices(g *globals, m serviceMatrix) error {
	fmt.Fprintf(g.stdout, "config tree %s at %s (commit %s, version %s)\n\n", m.Repo, m.Ref, m.Commit, m.Version)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tVERSION\tPINNED\tUSED BY")
	for _, s := range m.Services {
		used := strings.Join(s.UsedBy, ", ")
		if used == "" {
			used = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Module, dash(s.Version), pinned(s), used)
	}
	return tw.Flush()
}

// pinned says how a module is pinned: "1.2.0 @ 0123456789ab" or a digest.
func pinned(s configtree.Service) string {
	if s.Commit != "" {
		return strings.TrimSpace(s.Ref+" @ ") + " " + s.Commit[:12]
	}
	return strings.TrimPrefix(s.SHA256, "sha256:")[:12] + " (" + s.Source + ")"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
