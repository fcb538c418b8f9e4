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
	"github.com/bakery-dev/bakery/internal/server/api"
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
	return fs.String("actor", def, "who performs the action, for the audit log (env BAKERY_ACTOR; default $USER@host; with --server the token's name)")
}

// releaseCmd is a command that works on the local catalog's release
// state directly (hotfix, which builds).
type releaseCmd struct {
	actor string
	st    *stateHandles
	state release.State
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

func (c *releaseCmd) request(reason string, force bool) release.Request {
	return release.Request{Actor: c.actor, At: time.Now().UTC(), Reason: reason, Force: force}
}

// report prints the audit event of a release action.
func report(g *globals, e catalog.Event) error {
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
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	e, err := svc.Promote(ctx, product, api.PromoteRequest{Version: ref, To: *to, Reason: *reason, Force: *force, Actor: *actor})
	if err != nil {
		return usageOf(err)
	}
	return report(g, e)
}

func runRevoke(ctx context.Context, g *globals, args []string) error {
	return markCommand(ctx, g, args, "revoke", "mark the version revoked everywhere; channels pointing at it move back", api.Service.Revoke)
}

func runUnrevoke(ctx context.Context, g *globals, args []string) error {
	return markCommand(ctx, g, args, "unrevoke", "undo a revocation (channels are not moved back)", api.Service.Unrevoke)
}

func markCommand(ctx context.Context, g *globals, args []string, name, what string,
	action func(api.Service, context.Context, string, api.MarkRequest) (catalog.Event, error)) error {
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
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	e, err := action(svc.Service, ctx, product, api.MarkRequest{Version: ref, Reason: *reason, Actor: *actor})
	if err != nil {
		return usageOf(err)
	}
	return report(g, e)
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
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	e, err := svc.SecurityRelease(ctx, product, api.SecurityRequest{Version: ref, Advisories: advisories, Severity: *severity, Fixed: fixed, Reason: *reason, Actor: *actor})
	if err != nil {
		return usageOf(err)
	}
	return report(g, e)
}

func runSupport(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("support", "bakery support PRODUCT (each release line with its end of life and status)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("support needs PRODUCT")
	}
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	sup, err := svc.Support(ctx, fs.Arg(0))
	if err != nil {
		return usageOf(err)
	}
	lines := sup.Lines
	if g.json {
		return printJSON(g, map[string]any{"product": sup.Product, "policy": sup.Policy, "lines": orEmptyList(lines)})
	}
	p := sup.Policy
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
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	out, err := svc.UpgradePath(ctx, fs.Arg(0), fs.Arg(1), fs.Arg(2), *allowMajor)
	if err != nil {
		return usageOf(err)
	}
	if g.json {
		return printJSON(g, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(g.stdout, "%s is already at %s\n", fs.Arg(0), fs.Arg(2))
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
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	events, err := svc.Events(ctx, fs.Arg(0))
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
