package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/recipe"
)

// globals are the flags every command accepts, before or after its name.
type globals struct {
	stateDir string
	server   string // --server: talk to a bakery server's API instead of the local catalog
	json     bool
	quiet    bool
	verbose  bool

	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
}

func (g *globals) flagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(g.stderr)
	fs.StringVar(&g.stateDir, "state-dir", g.stateDir, "state directory: catalog, artifacts, caches (env BAKERY_STATE_DIR; default $XDG_DATA_HOME/bakery)")
	fs.StringVar(&g.server, "server", g.server, "release commands talk to this bakery server's API (URL) instead of the local catalog; token in BAKERY_TOKEN (env BAKERY_SERVER)")
	fs.BoolVar(&g.json, "json", g.json, "machine-readable output: JSON results and JSON progress event lines")
	fs.BoolVar(&g.quiet, "quiet", g.quiet, "no progress output")
	fs.BoolVar(&g.verbose, "verbose", g.verbose, "debug logging")
	fs.Usage = func() {
		fmt.Fprintf(g.stderr, "Usage: %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a command's flags, before or after its arguments
// ("promote P V --to stable"); everything after "--" is an argument. A bad
// flag is a usage error (exit 2).
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u) || recipe.IsUserError(err)
}

// state resolves the state directory: flag, BAKERY_STATE_DIR,
// $XDG_DATA_HOME/bakery, ~/.local/share/bakery.
func (g *globals) state() (string, error) {
	if g.stateDir != "" {
		return filepath.Abs(g.stateDir)
	}
	if v, ok := g.getenv("BAKERY_STATE_DIR"); ok && v != "" {
		return filepath.Abs(v)
	}
	if v, ok := g.getenv("XDG_DATA_HOME"); ok && v != "" {
		return filepath.Join(v, "bakery"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory (set --state-dir): %w", err)
	}
	return filepath.Join(home, ".local", "share", "bakery"), nil
}

// stateHandles are the opened parts of the state directory.
type stateHandles struct {
	dir     string
	catalog *sqlite.DB
	store   *fsstore.Store
}

func (s *stateHandles) Close() error { return s.catalog.Close() }

func (g *globals) open(ctx context.Context) (*stateHandles, error) {
	dir, err := g.state()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	cat, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"))
	if err != nil {
		return nil, fmt.Errorf("opening catalog: %w", err)
	}
	st, err := fsstore.New(filepath.Join(dir, "artifacts"))
	if err != nil {
		cat.Close()
		return nil, fmt.Errorf("opening artifact store: %w", err)
	}
	return &stateHandles{dir: dir, catalog: cat, store: st}, nil
}

func (g *globals) logger() *slog.Logger {
	level := slog.LevelWarn
	if g.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
}
