package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/webhook"
)

var webhookCommands = []command{
	{"add", "add a webhook: bakery webhook add URL --events built,promoted,revoked,security-release [--secret S]", runWebhookAdd},
	{"ls", "list webhooks", runWebhookList},
	{"rm", "remove a webhook and its deliveries: bakery webhook rm ID", runWebhookRemove},
	{"deliveries", "list deliveries of all webhooks or of one: bakery webhook deliveries [ID]", runWebhookDeliveries},
	{"deliver", "send due deliveries, with retries, until interrupted (--once: one pass)", runWebhookDeliver},
}

func runWebhook(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintf(g.stderr, "Usage: bakery webhook SUBCOMMAND [flags] [args]\n\nSubcommands:\n")
		for _, c := range webhookCommands {
			fmt.Fprintf(g.stderr, "  %-11s %s\n", c.name, c.summary)
		}
		if len(args) == 0 {
			return usagef("webhook needs a subcommand")
		}
		return nil
	}
	for _, c := range webhookCommands {
		if c.name == args[0] {
			return c.run(ctx, g, args[1:])
		}
	}
	return usagef("webhook: unknown subcommand %q (add, ls, rm, deliveries, deliver)", args[0])
}

// newSecret returns 32 random bytes in hex.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

func runWebhookAdd(ctx context.Context, g *globals, args []string) error {
	var events listFlag
	fs := g.flagSet("webhook add", "bakery webhook add URL --events EVENT,... [--secret S]")
	fs.Var(&events, "events", "events to send (repeatable or comma-separated): "+strings.Join(catalog.HookEvents, ", "))
	secret := fs.String("secret", "", "HMAC-SHA256 key the receiver verifies X-Bakery-Signature with (default: generated and printed once)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("webhook add needs URL (got %d arguments)", fs.NArg())
	}
	generated := *secret == ""
	if generated {
		*secret = newSecret()
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	w, err := st.catalog.AddWebhook(ctx, catalog.Webhook{URL: fs.Arg(0), Events: events, Secret: *secret})
	if errors.Is(err, catalog.ErrInvalid) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	if g.json {
		out := struct {
			catalog.Webhook
			Secret string `json:"secret,omitempty"`
		}{w, ""}
		if generated {
			out.Secret = w.Secret
		}
		return printJSON(g, out)
	}
	fmt.Fprintf(g.stdout, "webhook %d: %s (%s)\n", w.ID, w.URL, strings.Join(w.Events, ","))
	if generated {
		fmt.Fprintf(g.stdout, "secret: %s\n(shown only now: give it to the receiver to verify %s)\n", w.Secret, webhook.HeaderSignature)
	}
	return nil
}

func runWebhookList(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("webhook ls", "bakery webhook ls")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	hooks, err := st.catalog.Webhooks(ctx)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, orEmptyList(hooks))
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tCREATED")
	for _, w := range hooks {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", w.ID, w.URL, strings.Join(w.Events, ","), w.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func webhookID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("webhook ID %q: want a number from 'bakery webhook ls'", s)
	}
	return id, nil
}

func runWebhookRemove(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("webhook rm", "bakery webhook rm ID")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("webhook rm needs ID (got %d arguments)", fs.NArg())
	}
	id, err := webhookID(fs.Arg(0))
	if err != nil {
		return err
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.catalog.DeleteWebhook(ctx, id); errors.Is(err, catalog.ErrNotFound) {
		return usagef("no webhook %d (see 'bakery webhook ls')", id)
	} else if err != nil {
		return err
	}
	if !g.quiet && !g.json {
		fmt.Fprintf(g.stdout, "removed webhook %d\n", id)
	}
	return nil
}

func runWebhookDeliveries(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("webhook deliveries", "bakery webhook deliveries [ID] [--state pending|delivered|failed] [--limit N]")
	state := fs.String("state", "", "only deliveries in this state: pending, delivered or failed")
	limit := fs.Int("limit", 50, "the newest this many (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	f := catalog.DeliveryFilter{State: *state, Limit: *limit}
	switch fs.NArg() {
	case 0:
	case 1:
		id, err := webhookID(fs.Arg(0))
		if err != nil {
			return err
		}
		f.Webhook = id
	default:
		return usagef("webhook deliveries takes at most one webhook ID")
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ds, err := st.catalog.Deliveries(ctx, f)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, orEmptyList(ds))
	}
	return printDeliveries(g, ds)
}

func printDeliveries(g *globals, ds []catalog.Delivery) error {
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DELIVERY\tWEBHOOK\tEVENT\tSTATE\tATTEMPTS\tSTATUS\tCREATED\tNEXT/DONE\tLAST ERROR")
	for _, d := range ds {
		when := d.NextAttemptAt
		if d.State != catalog.DeliveryPending {
			when = d.LastAttemptAt
		}
		status := "-"
		if d.LastStatusCode != 0 {
			status = strconv.Itoa(d.LastStatusCode)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, d.Webhook, d.Event, d.State, d.Attempts,
			status, d.CreatedAt.Format(time.RFC3339), when.Format(time.RFC3339), orDash(d.LastError))
	}
	return tw.Flush()
}

// deliverFlags are the webhook delivery flags of webhook deliver and (with
// the prefix "webhook-") of serve.
type deliverFlags struct {
	timeout, lease, base, maxDelay, poll *time.Duration
	maxAttempts                          *int
}

func registerDeliverFlags(fs *flag.FlagSet, prefix string) *deliverFlags {
	def := webhook.DefaultOptions()
	return &deliverFlags{
		timeout:     fs.Duration(prefix+"timeout", def.Timeout, "timeout of one webhook attempt"),
		lease:       fs.Duration(prefix+"lease", 0, "how long an attempt holds its delivery before another deliverer may retry it (default: timeout + 30s)"),
		maxAttempts: fs.Int(prefix+"max-attempts", def.MaxAttempts, "attempts before a delivery is marked failed"),
		base:        fs.Duration(prefix+"base-delay", def.BaseDelay, "wait after the first failed attempt, doubled after each further one (with jitter)"),
		maxDelay:    fs.Duration(prefix+"max-delay", def.MaxDelay, "the longest wait between attempts"),
		poll:        fs.Duration(prefix+"poll", def.Poll, "how often to look for due deliveries"),
	}
}

// options returns the deliverer's options; it logs one line per attempt
// unless --quiet (all of its debug lines with --verbose).
func (f *deliverFlags) options(g *globals) (webhook.Options, error) {
	o := webhook.DefaultOptions()
	o.Timeout, o.Lease, o.MaxAttempts, o.BaseDelay, o.MaxDelay, o.Poll = *f.timeout, *f.lease, *f.maxAttempts, *f.base, *f.maxDelay, *f.poll
	if o.Lease == 0 {
		o.Lease = o.Timeout + 30*time.Second
	}
	o.Logger = g.logger()
	if !g.quiet && !g.verbose {
		o.Logger = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: slog.LevelInfo})) // one line per attempt
	}
	if err := o.Validate(); err != nil {
		return webhook.Options{}, usagef("%v", err)
	}
	return o, nil
}

func runWebhookDeliver(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("webhook deliver", "bakery webhook deliver [--once] [--timeout D] [--max-attempts N] [--base-delay D] [--max-delay D] [--poll D]")
	once := fs.Bool("once", false, "one pass over the due deliveries, then exit")
	df := registerDeliverFlags(fs, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("webhook deliver takes no arguments")
	}
	o, err := df.options(g)
	if err != nil {
		return err
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := webhook.New(st.catalog, o)
	if err != nil {
		return err
	}
	if !*once {
		return d.Run(ctx)
	}
	s, err := d.DeliverPending(ctx)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, s)
	}
	fmt.Fprintf(g.stdout, "delivered %d, retrying %d, failed %d\n", s.Delivered, s.Retrying, s.Failed)
	return nil
}
