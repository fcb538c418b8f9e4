package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/stagecache"
)

// cacheFlags are the build flags that control the stage cache.
type cacheFlags struct {
	max     string // --cache-max
	noCache bool   // --no-cache
}

func (c *cacheFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.max, "cache-max", "", "size limit of the stage cache, least recently used entries evicted first, e.g. 20GiB; 0 or off disables it (env BAKERY_CACHE_MAX; default 20GiB)")
	fs.BoolVar(&c.noCache, "no-cache", false, "neither use nor fill the stage cache (always run mmdebstrap)")
}

// parseCacheMax reads a cache size limit: a size such as 20GiB, or 0/off
// (disabled, reported as -1).
func parseCacheMax(flagName, s string) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return stagecache.DefaultMaxBytes, nil
	case "0", "off", "none", "no", "false":
		return -1, nil
	}
	n, err := recipe.ParseSize(s)
	if err != nil {
		return 0, usagef("%s: %v (e.g. 20GiB, or off)", flagName, err)
	}
	if n == 0 {
		return -1, nil
	}
	return int64(n), nil
}

func stageCacheDir(state string) string { return filepath.Join(state, "cache", "stages") }

// openStageCache opens the stage cache of a build, or returns nil when the
// flags or BAKERY_CACHE_MAX disable it.
func openStageCache(g *globals, f cacheFlags, state string) (*stagecache.Cache, error) {
	if f.noCache {
		return nil, nil
	}
	v := f.max
	if env, ok := g.getenv("BAKERY_CACHE_MAX"); ok && v == "" {
		v = env
	}
	max, err := parseCacheMax("--cache-max", v)
	if err != nil || max < 0 {
		return nil, err
	}
	return stagecache.Open(stagecache.Options{Dir: stageCacheDir(state), MaxBytes: max,
		Runner: runner.Exec{}, Logger: g.logger()})
}

func runCache(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "--help" && args[0] != "-h" {
		return usagef("cache needs a subcommand: ls or prune (run 'bakery cache --help')")
	}
	switch args[0] {
	case "ls", "list":
		return runCacheLs(g, args[1:])
	case "prune":
		return runCachePrune(g, args[1:])
	case "--help", "-h", "help":
		fmt.Fprintf(g.stderr, "Usage: bakery cache ls | bakery cache prune [--max SIZE | --all]\n\n"+
			"The stage cache keeps the bootstrapped root tree of locked builds in STATE/cache/stages,\n"+
			"keyed by the sha256 of the bootstrap's inputs, so a rebuild of the same packages skips mmdebstrap.\n")
		return nil
	}
	return usagef("unknown cache subcommand %q (want ls or prune)", args[0])
}

func openCacheForCommand(g *globals) (*stagecache.Cache, error) {
	state, err := g.state()
	if err != nil {
		return nil, err
	}
	return stagecache.Open(stagecache.Options{Dir: stageCacheDir(state), Logger: g.logger()})
}

func runCacheLs(g *globals, args []string) error {
	fs := g.flagSet("cache ls", "bakery cache ls")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := openCacheForCommand(g)
	if err != nil {
		return err
	}
	entries, err := c.List()
	if err != nil {
		return err
	}
	if g.json {
		if entries == nil {
			entries = []stagecache.Entry{}
		}
		return printJSON(g, entries)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTAGE\tSIZE\tCREATED\tLAST USED")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Key[:12], e.Stage, humanSize(e.Size),
			e.Created.Local().Format(time.DateTime), e.LastUsed.Local().Format(time.DateTime))
	}
	fmt.Fprintf(tw, "\t%d entries\t%s\t\t\n", len(entries), humanSize(stagecache.Total(entries)))
	return tw.Flush()
}

func runCachePrune(g *globals, args []string) error {
	fs := g.flagSet("cache prune", "bakery cache prune [--max SIZE | --all]")
	max := fs.String("max", "", "evict least recently used entries until the cache is at most SIZE (default: BAKERY_CACHE_MAX or 20GiB)")
	all := fs.Bool("all", false, "remove every entry")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *all && *max != "" {
		return usagef("cache prune: --max and --all exclude each other")
	}
	limit, err := pruneLimit(g, *max, *all)
	if err != nil {
		return err
	}
	c, err := openCacheForCommand(g)
	if err != nil {
		return err
	}
	removed, err := c.Prune(limit)
	if g.json {
		if removed == nil {
			removed = []stagecache.Entry{}
		}
		if perr := printJSON(g, map[string]any{"removed": removed}); err == nil {
			err = perr
		}
		return err
	}
	for _, e := range removed {
		fmt.Fprintf(g.stdout, "removed %s %s (%s)\n", e.Key[:12], e.Stage, humanSize(e.Size))
	}
	fmt.Fprintf(g.stdout, "%d entries removed, %s freed\n", len(removed), humanSize(stagecache.Total(removed)))
	return err
}

// pruneLimit is the size prune keeps: 0 for --all, else --max, else the
// build's limit (BAKERY_CACHE_MAX or the default).
func pruneLimit(g *globals, max string, all bool) (int64, error) {
	if all {
		return 0, nil
	}
	if max == "" {
		max, _ = g.getenv("BAKERY_CACHE_MAX")
	}
	n, err := parseCacheMax("--max", max)
	if n < 0 {
		return 0, err // a disabled cache keeps nothing
	}
	return n, err
}
