package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
)

// listFlag is a repeatable flag; each use may also hold a comma-separated
// list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// releaseCmd holds what every release command shares: who acts, the
// opened state and the product's release state.
type releaseCmd struct {
	actor string
	st    *stateHandles
	state release.State
}

func actorFlag(fs *flag.FlagSet, g *globals) *string {
	def := "unknown"
	if v, ok := g.getenv("BAKERY_ACTOR"); ok && v != "" {
		def = v
	} else if u, ok := g.getenv("USER"); ok && u != "" {
		def = u
		if h, err := os.Hostname(); err == nil {
			def += "@" + h
		}
	}
	return fs.String("actor", def, "who performs the action, for the audit log (env BAKERY_ACTOR; default $USER@host)")
}

// openRelease opens the state and loads product's release state.
func openRelease(ctx context.Context, g *globals, product, actor string) (*releaseCmd, error) {
	st, err := g.open(ctx)
	if err != nil {
		return nil, err
	}
	s, err := release.Load(ctx, st.catalog, product)
	if err != nil {
		st.Close()
		if errors.Is(err, release.ErrUnknown) {
			return nil, usagef("%v", err)
		}
		return nil, err
	}
	if s.PolicyWarning != "" {
		fmt.Fprintf(g.stderr, "bakery: warning: %s\n", s.PolicyWarning)
	}
	return &releaseCmd{actor: actor, st: st, state: s}, nil
}

func (c *releaseCmd) Close() error { return c.st.Close() }

func (c *releaseCmd) find(ref string) (catalog.Image, error) {
	img, err := c.state.Find(ref)
	if err != nil {
		return catalog.Image{}, usagef("%v", err)
	}
	return img, nil
}

func (c *releaseCmd) request(reason string, force bool) release.Request {
	return release.Request{Actor: c.actor, At: time.Now().UTC(), Reason: reason, Force: force}
}

// apply records a change and reports the event.
func (c *releaseCmd) apply(ctx context.Context, g *globals, ch catalog.Change) error {
	e, err := c.st.catalog.ApplyChange(ctx, ch)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, e)
	}
	printEvent(g, e)
	return nil
}

func printEvent(g *globals, e catalog.Event) {
	fmt.Fprintf(g.stdout, "%s %s %s", e.Action, e.Product, e.Version)
	if e.Channel != "" {
		fmt.Fprintf(g.stdout, " to %s", e.Channel)
	}
	fmt.Fprintf(g.stdout, " (%s) by %s at %s", e.Image, e.Actor, e.At.Format(time.RFC3339))
	if len(e.Forced) > 0 {
		fmt.Fprintf(g.stdout, ", FORCED past %s", strings.Join(e.Forced, ", "))
	}
	if e.Reason != "" {
		fmt.Fprintf(g.stdout, ": %s", e.Reason)
	}
	fmt.Fprintln(g.stdout)
	for _, m := range e.Moves {
		fmt.Fprintf(g.stdout, "  %-12s %s -> %s\n", m.Channel, orNone(m.From), orNone(m.To))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// twoArgs checks for PRODUCT VERSION.
func twoArgs(fs *flag.FlagSet, cmd string) (string, string, error) {
	if fs.NArg() != 2 {
		return "", "", usagef("%s needs PRODUCT VERSION (got %d arguments)", cmd, fs.NArg())
	}
	return fs.Arg(0), fs.Arg(1), nil
}

func runPromote(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("promote", "bakery promote PRODUCT VERSION --to CHANNEL [--force --reason TEXT]")
	to := fs.String("to", "", "the channel to promote to: the next in the product's order (devel, rolling, stable by default) or a line stable-X.Y")
	force := fs.Bool("force", false, "override the previous-channel, soak and no-downgrade gates (needs --reason; recorded)")
	reason := fs.String("reason", "", "why; recorded in the audit log")
	actor := actorFlag(fs, g)
	if err := parse(fs, args); err != nil {
		return err
	}
	product, ref, err := twoArgs(fs, "promote")
	if err != nil {
		return err
	}
	if *to == "" {
		return usagef("promote needs --to CHANNEL")
	}
	if *force && *reason == "" {
		return usagef("--force needs --reason: say why the gates are overridden")
	}
	c, err := openRelease(ctx, g, product, *actor)
	if err != nil {
		return err
	}
	defer c.Close()
	img, err := c.find(ref)
	if err != nil {
		return err
	}
	ch, err := c.state.Promote(img, *to, c.request(*reason, *force))
	if err != nil {
		return fmt.Errorf("promoting %s %s to %s: %w", product, img.Version, *to, err)
	}
	return c.apply(ctx, g, ch)
}

func runRevoke(ctx context.Context, g *globals, args []string) error {
	return markCommand(ctx, g, args, "revoke", "mark the version revoked everywhere; channels pointing at it move back", release.State.Revoke)
}

func runUnrevoke(ctx context.Context, g *globals, args []string) error {
	return markCommand(ctx, g, args, "unrevoke", "undo a revocation (channels are not moved back)", release.State.Unrevoke)
}

func markCommand(ctx context.Context, g *globals, args []string, name, what string,
	rule func(release.State, catalog.Image, release.Request) (catalog.Change, error)) error {
	fs := g.flagSet(name, fmt.Sprintf("bakery %s PRODUCT VERSION --reason TEXT (%s)", name, what))
	reason := fs.String("reason", "", "why (required; recorded in the audit log)")
	actor := actorFlag(fs, g)
	if err := parse(fs, args); err != nil {
		return err
	}
	product, ref, err := twoArgs(fs, name)
	if err != nil {
		return err
	}
	if *reason == "" {
		return usagef("%s needs --reason", name)
	}
	c, err := openRelease(ctx, g, product, *actor)
	if err != nil {
		return err
	}
	defer c.Close()
	img, err := c.find(ref)
	if err != nil {
		return err
	}
	ch, err := rule(c.state, img, c.request(*reason, false))
	if err != nil {
		return err
	}
	return c.apply(ctx, g, ch)
}

func runSecurityRelease(ctx context.Context, g *globals, args []string) error {
	var advisories, fixed listFlag
	fs := g.flagSet("security-release", "bakery security-release PRODUCT VERSION --advisory ID [--advisory ID] --severity S [--fixed PKG,...]")
	fs.Var(&advisories, "advisory", "advisory or CVE ID (repeatable or comma-separated), e.g. DSA-5801-1")
	severity := fs.String("severity", "high", "severity: "+strings.Join(release.Severities, ", "))
	fs.Var(&fixed, "fixed", "packages the release fixes (repeatable or comma-separated)")
	reason := fs.String("reason", "", "note for the audit log")
	actor := actorFlag(fs, g)
	if err := parse(fs, args); err != nil {
		return err
	}
	product, ref, err := twoArgs(fs, "security-release")
	if err != nil {
		return err
	}
	if len(advisories) == 0 {
		return usagef("security-release needs at least one --advisory ID")
	}
	c, err := openRelease(ctx, g, product, *actor)
	if err != nil {
		return err
	}
	defer c.Close()
	img, err := c.find(ref)
	if err != nil {
		return err
	}
	ch, err := c.state.SecurityRelease(img, release.Advisory{IDs: advisories, Severity: *severity, Fixed: fixed}, c.request(*reason, false))
	if err != nil {
		return usagef("%v", err)
	}
	return c.apply(ctx, g, ch)
}

func runSupport(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("support", "bakery support PRODUCT (each release line with its end of life and status)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("support needs PRODUCT")
	}
	c, err := openRelease(ctx, g, fs.Arg(0), "")
	if err != nil {
		return err
	}
	defer c.Close()
	lines := c.state.Support(time.Now())
	if g.json {
		return printJSON(g, map[string]any{"product": c.state.Product, "policy": c.state.Policy.Support, "lines": orEmptyList(lines)})
	}
	p := c.state.Policy.Support
	fmt.Fprintf(g.stdout, "policy: a line ends %d newer minors later (and at least %d weeks after the next), or %d months after the next major, whichever comes first\n\n",
		p.NewerMinors, p.MinWeeks, p.MonthsAfterNextMajor)
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tNEWEST\tRELEASED\tEND OF LIFE\tSTATUS")
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Line, l.Newest, dateOrDash(l.Released), dateOrDash(l.EOL), l.Status)
	}
	return tw.Flush()
}

func dateOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02")
}

func orEmptyList[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func runUpgradePath(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("upgrade-path", "bakery upgrade-path [--allow-major] PRODUCT FROM TO")
	allowMajor := fs.Bool("allow-major", false, "allow hops to another major version")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 3 {
		return usagef("upgrade-path needs PRODUCT FROM TO (got %d arguments)", fs.NArg())
	}
	c, err := openRelease(ctx, g, fs.Arg(0), "")
	if err != nil {
		return err
	}
	defer c.Close()
	from, err := c.find(fs.Arg(1))
	if err != nil {
		return err
	}
	to, err := c.find(fs.Arg(2))
	if err != nil {
		return err
	}
	hops, err := c.state.UpgradePath(from, to, *allowMajor)
	if err != nil {
		return err
	}
	type hop struct {
		From       string `json:"from"`
		To         string `json:"to"`
		Major      bool   `json:"major"`
		Disruptive bool   `json:"disruptive"`
	}
	out := []hop{}
	for _, h := range hops {
		out = append(out, hop{h.From.String(), h.To.String(), h.Major, h.Disruptive})
	}
	if g.json {
		return printJSON(g, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(g.stdout, "%s is already at %s\n", fs.Arg(0), to.Version)
	}
	for i, h := range out {
		how := "in place"
		if h.Disruptive {
			how = "DISRUPTIVE: drain or recreate machines"
		}
		if h.Major {
			how += ", major upgrade"
		}
		fmt.Fprintf(g.stdout, "%d. %s -> %s  (%s)\n", i+1, h.From, h.To, how)
	}
	return nil
}

func runLog(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("log", "bakery log [PRODUCT] (the audit log of release actions; all products without PRODUCT)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("log takes at most one PRODUCT")
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	events, err := st.catalog.Events(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, orEmptyList(events))
	}
	for _, e := range events {
		fmt.Fprintf(g.stdout, "#%d ", e.ID)
		printEvent(g, e)
	}
	return nil
}
