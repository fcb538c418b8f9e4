package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/bakery-dev/bakery/internal/pgpkey"
	"github.com/bakery-dev/bakery/internal/publish"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/server"
)

// streamsKeySpec is the simplestreams signing key, kept in the state
// directory's keys/ (private key mode 0600, never published).
var streamsKeySpec = pgpkey.Spec{
	Name: "bakery streams", Comment: "simplestreams signing key", Email: "bakery@localhost",
	PrivateFile: "streams.key", PublicFile: "streams.asc", ArmoredPublic: true,
}

func keyDir(st *stateHandles) string { return filepath.Join(st.dir, "keys") }

func runKeygen(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("keygen", "bakery keygen")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("keygen takes no arguments")
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	k, err := pgpkey.Create(keyDir(st), streamsKeySpec)
	existed := errors.Is(err, pgpkey.ErrExists)
	if err != nil && !existed {
		return err
	}
	if g.json {
		return printJSON(g, map[string]any{"fingerprint": k.Fingerprint(), "public_key": k.PublicFile(), "created": !existed})
	}
	verb := "created"
	if existed {
		verb = "kept the existing"
	}
	fmt.Fprintf(g.stdout, "%s simplestreams signing key %s\npublic key: %s (published as %s)\n", verb, k.Fingerprint(), k.PublicFile(), publish.KeyPath)
	return nil
}

// streamsFlags are the flags publish and serve share.
type streamsFlags struct {
	prefix string
	expiry recipe.Duration
}

func (f *streamsFlags) register(fs *flag.FlagSet) {
	def := publish.DefaultOptions()
	f.prefix, f.expiry = def.Streams.ContentIDPrefix, recipe.Duration(def.Expiry)
	fs.StringVar(&f.prefix, "content-id-prefix", f.prefix, "start of every content ID and product name (reverse domain)")
	fs.Func("expiry", "how long a signed index stays valid: 90m, 36h, 7d, 2w (default 7d)", func(s string) error {
		d, err := recipe.ParseDuration(s)
		f.expiry = d
		return err
	})
}

func (f *streamsFlags) options() (publish.Options, error) {
	o := publish.DefaultOptions()
	o.Streams.ContentIDPrefix, o.Expiry = f.prefix, time.Duration(f.expiry)
	if err := o.Validate(); err != nil {
		return publish.Options{}, usagef("%v", err)
	}
	return o, nil
}

func loadStreamsKey(st *stateHandles) (*pgpkey.Key, error) {
	k, err := pgpkey.Load(keyDir(st), streamsKeySpec)
	if errors.Is(err, pgpkey.ErrNoKey) {
		return nil, usagef("no simplestreams signing key in %s: run 'bakery keygen' first", keyDir(st))
	}
	return k, err
}

func runPublish(ctx context.Context, g *globals, args []string) error {
	var sf streamsFlags
	fs := g.flagSet("publish", "bakery publish --to DIR [--content-id-prefix P] [--expiry 7d] [--verify]")
	to := fs.String("to", "", "directory to write the mirror into (streams/v1/, images/)")
	verify := fs.Bool("verify", false, "re-hash every artifact already in DIR instead of trusting the last publish's record")
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *to == "" {
		return usagef("publish needs --to DIR and no arguments")
	}
	opt, err := sf.options()
	if err != nil {
		return err
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := loadStreamsKey(st)
	if err != nil {
		return err
	}
	snap, err := publish.Build(ctx, st.catalog, key, opt, time.Now())
	if err != nil {
		return err
	}
	stats, err := publish.ToDir(ctx, snap, st.store, *to, publish.DirOptions{Verify: *verify, Logger: g.logger()})
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, stats)
	}
	fmt.Fprintf(g.stdout, "published %s: %d files written, %d unchanged, %d stale removed\n", *to, stats.Written, stats.Unchanged, stats.Removed)
	return nil
}

func runServe(ctx context.Context, g *globals, args []string) error {
	var sf streamsFlags
	fs := g.flagSet("serve", "bakery serve [--listen ADDR] [--content-id-prefix P] [--expiry 7d] [--private-reads]")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	privateReads := fs.Bool("private-reads", false, "the API's reads need a token too (writes always do)")
	sf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("serve takes no arguments")
	}
	opt, err := sf.options()
	if err != nil {
		return err
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := loadStreamsKey(st)
	if err != nil {
		return err
	}
	so := server.DefaultOptions()
	so.Catalog, so.Store, so.Key, so.Publish, so.Logger = st.catalog, st.store, key, opt, g.logger()
	so.Resign = min(so.Resign, opt.Expiry/2) // re-sign well before a short expiry
	as, err := newAPIServe(st, *privateReads, g.logger())
	if err != nil {
		return err
	}
	so.Mounts = as.mount(so.Mounts)
	srv, err := server.New(so)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *listen, err)
	}
	printURLs(g, ln.Addr().String())
	return serveUntilDone(ctx, ln, as.wrap(srv.Handler()))
}

func printURLs(g *globals, addr string) {
	base := "http://" + addr
	if g.json {
		_ = printJSON(g, map[string]string{"url": base, "index": base + "/streams/v1/index.json", "key": base + "/" + publish.KeyPath})
		return
	}
	fmt.Fprintf(g.stdout, "serving the catalog at %s (Ctrl-C stops)\n", base)
	fmt.Fprintf(g.stdout, "  streams:  %s/streams/v1/index.json (signed: index.sjson)\n", base)
	fmt.Fprintf(g.stdout, "  key:      %s/%s\n", base, publish.KeyPath)
	fmt.Fprintf(g.stdout, "  health:   %s/healthz\n", base)
	fmt.Fprintf(g.stdout, "  api:      %s/api/v1/ (OpenAPI: /api/v1/openapi.json)\n", base)
	fmt.Fprintf(g.stdout, "  metrics:  %s/metrics\n", base)
}

// serveUntilDone serves until ctx is cancelled (Ctrl-C), then lets
// requests in flight finish for up to 10 seconds.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
