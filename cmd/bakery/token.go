package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/server/auth"
)

func runToken(ctx context.Context, g *globals, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return tokenCreate(ctx, g, args[1:])
		case "ls":
			return tokenList(ctx, g, args[1:])
		case "revoke":
			return tokenRevoke(ctx, g, args[1:])
		}
	}
	return usagef("token needs a subcommand: create --name N --role R [--expires 30d], ls, revoke NAME")
}

func tokenCreate(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("token create", "bakery token create --name NAME --role viewer|builder|releaser|admin [--expires 30d] (prints the token once)")
	name := fs.String("name", "", "the token's name (the audit log names its writes token:NAME)")
	role := fs.String("role", "", "viewer, builder, releaser or admin")
	var expires recipe.Duration
	fs.Func("expires", "lifetime: 90m, 36h, 30d, 2w (default: never)", func(s string) error {
		d, err := recipe.ParseDuration(s)
		expires = d
		return err
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *name == "" || *role == "" {
		return usagef("token create needs --name and --role and no arguments")
	}
	if _, err := auth.ParseRole(*role); err != nil {
		return usagef("%v", err)
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	tok, info, err := auth.Create(ctx, st.catalog, *name, *role, time.Duration(expires), time.Now())
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, map[string]any{"token": tok, "info": info})
	}
	fmt.Fprintln(g.stdout, tok)
	fmt.Fprintf(g.stderr, "token %s (role %s%s): shown once; only its SHA-256 is kept. Use it as BAKERY_TOKEN or Authorization: Bearer.\n",
		info.Name, info.Role, expiresText(info.ExpiresAt))
	return nil
}

func expiresText(t time.Time) string {
	if t.IsZero() {
		return ", never expires"
	}
	return ", expires " + t.Format(time.RFC3339)
}

func tokenList(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("token ls", "bakery token ls")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.catalog.ListTokens(ctx)
	if err != nil {
		return err
	}
	if g.json {
		return printJSON(g, orEmptyList(list))
	}
	now := time.Now()
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tEXPIRES\tSTATUS")
	for _, t := range list {
		status := "active"
		switch {
		case !t.RevokedAt.IsZero():
			status = "revoked " + t.RevokedAt.Format("2006-01-02 15:04")
		case !t.Active(now):
			status = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, t.CreatedAt.Format("2006-01-02 15:04"), dateOrDash(t.ExpiresAt), status)
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, g *globals, args []string) error {
	fs := g.flagSet("token revoke", "bakery token revoke NAME")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("token revoke needs NAME")
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.catalog.RevokeToken(ctx, fs.Arg(0), time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "revoked token %s\n", fs.Arg(0))
	return nil
}
