package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/feed"
	"github.com/bakery-dev/bakery/internal/pgpkey"
	"github.com/bakery-dev/bakery/internal/publish"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/server"
	"github.com/bakery-dev/bakery/internal/server/web"
	"github.com/bakery-dev/bakery/internal/simplestreams"
	"github.com/bakery-dev/bakery/internal/webhook"
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
	fs := g.flagSet("publish", "bakery publish --to DIR [--base-url URL] [--content-id-prefix P] [--expiry 7d] [--verify]")
	to := fs.String("to", "", "directory to write the mirror into (streams/v1/, images/, feeds/)")
	base := fs.String("base-url", "http://127.0.0.1:8080", "the URL DIR is served at: feed IDs and links start with it")
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
	opt.ContentAddressed = true // the index is the commit point of the tree
	fo, err := feedOptions(*base, g)
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
	feeds, err := feed.Files(ctx, st.catalog, fo)
	if err != nil {
		return fmt.Errorf("making the feeds: %w", err)
	}
	stats, err := publish.ToDir(ctx, snap, st.store, *to, publish.DirOptions{Verify: *verify, Files: feeds, Logger: g.logger()})
	if errors.Is(err, publish.ErrForeignDir) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, stats)
	}
	fmt.Fprintf(g.stdout, "published %s: %d files written, %d unchanged, %d stale removed\n", *to, stats.Written, stats.Unchanged, stats.Removed)
	fmt.Fprintf(g.stdout, "  streams: %s\n  feeds:   %s (links under %s)\n",
		filepath.Join(*to, simplestreams.IndexPath), filepath.Join(*to, "feeds")+"/", *base)
	return nil
}

func feedOptions(base string, g *globals) (feed.Options, error) {
	o := feed.DefaultOptions(base)
	o.Version, o.Logger = version, g.logger()
	if err := o.Validate(); err != nil {
		return feed.Options{}, usagef("%v", err)
	}
	return o, nil
}

func runServe(ctx context.Context, g *globals, args []string) error {
	var sf streamsFlags
	fs := g.flagSet("serve", "bakery serve [--listen ADDR] [--base-url URL] [--content-id-prefix P] [--expiry 7d] [--no-webhooks] [--webhook-poll D ...] [--private-reads]")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	base := fs.String("base-url", "", "the URL clients reach the server at, for feed IDs and links (default: http://ADDR)")
	noHooks := fs.Bool("no-webhooks", false, "do not deliver webhooks (another process runs 'bakery webhook deliver')")
	df := registerDeliverFlags(fs, "webhook-")
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
	wo, err := df.options(g)
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
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *listen, err)
	}
	defer ln.Close()
	if *base == "" {
		*base = "http://" + ln.Addr().String()
	}
	fo, err := feedOptions(*base, g)
	if err != nil {
		return err
	}
	so := server.DefaultOptions()
	so.Catalog, so.Store, so.Key, so.Publish, so.Logger = st.catalog, st.store, key, opt, g.logger()
	so.Resign = min(so.Resign, opt.Expiry/2) // re-sign well before a short expiry
	wbo := web.DefaultOptions()
	wbo.Catalog, wbo.Store, wbo.Logger, wbo.ServeStale = st.catalog, st.store, g.logger(), true
	site, err := web.New(wbo)
	if err != nil {
		return err
	}
	as, err := newAPIServe(st, *privateReads, g.logger())
	if err != nil {
		return err
	}
	so.Mounts = as.mount(map[string]http.Handler{"/feeds/": feed.Handler(st.catalog, fo), "/": site})
	srv, err := server.New(so)
	if err != nil {
		return err
	}
	as.reg.Register(srv.PublishedMetrics)
	var deliverer *webhook.Deliverer
	if !*noHooks {
		if deliverer, err = webhook.New(st.catalog, wo); err != nil {
			return err
		}
	}
	printURLs(g, ln.Addr().String(), deliverer != nil)
	return serveAndDeliver(ctx, ln, as.wrap(srv.Handler()), deliverer)
}

// serveAndDeliver serves and, when d is set, delivers webhooks alongside
// until ctx is cancelled; it returns once both have stopped.
func serveAndDeliver(ctx context.Context, ln net.Listener, h http.Handler, d *webhook.Deliverer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if d != nil {
		wg.Go(func() { _ = d.Run(ctx) }) // Run logs its errors and returns nil when ctx ends
	}
	err := serveUntilDone(ctx, ln, h)
	cancel()
	wg.Wait()
	return err
}

func printURLs(g *globals, addr string, webhooks bool) {
	base := "http://" + addr
	if g.json {
		_ = printJSON(g, map[string]any{
			"url": base, "catalog": base + "/", "index": base + "/" + simplestreams.IndexPath, "key": base + "/" + publish.KeyPath,
			"feeds":    []string{base + feed.Path(feed.Releases, ""), base + feed.Path(feed.Security, "")},
			"webhooks": webhooks,
		})
		return
	}
	fmt.Fprintf(g.stdout, "serving the catalog at %s (Ctrl-C stops)\n", base)
	fmt.Fprintf(g.stdout, "  catalog:  %s/ (web pages)\n", base)
	fmt.Fprintf(g.stdout, "  streams:  %s/%s (signed: index.sjson)\n", base, simplestreams.IndexPath)
	fmt.Fprintf(g.stdout, "  key:      %s/%s\n", base, publish.KeyPath)
	fmt.Fprintf(g.stdout, "  feeds:    %s%s\n", base, feed.Path(feed.Releases, ""))
	fmt.Fprintf(g.stdout, "            %s%s (and %s)\n", base, feed.Path(feed.Security, ""), feed.Path(feed.Releases, "PRODUCT"))
	fmt.Fprintf(g.stdout, "  health:   %s/healthz\n", base)
	fmt.Fprintf(g.stdout, "  api:      %s/api/v1/ (OpenAPI: /api/v1/openapi.json)\n", base)
	fmt.Fprintf(g.stdout, "  metrics:  %s/metrics\n", base)
	if webhooks {
		fmt.Fprintf(g.stdout, "delivering webhooks (bakery webhook ls)\n")
	}
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
