package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/release"
	"github.com/bakery-dev/bakery/internal/runner"
)

type hotfixFlags struct {
	line, forID, configRef, reason string
	updates                        listFlag
	disruptive, test               bool
	build                          buildFlags
}

// runHotfix builds the next patch release of an older line from the lock
// and recipe of the line's head, with the requested package or config
// updates, records it as a hotfix for an issue or advisory, and (with
// --test) boot-tests it. Promoting it to stable-X.Y goes through the gates
// like any other version.
func runHotfix(ctx context.Context, g *globals, args []string) error {
	var f hotfixFlags
	fs := g.flagSet("hotfix", "bakery hotfix PRODUCT --line X.Y --for ID [--update PKG,...] [--config-ref REF] [--disruptive] [--test]")
	fs.StringVar(&f.line, "line", "", "the release line X.Y to make a patch release on (its stable-X.Y head is the base)")
	fs.StringVar(&f.forID, "for", "", "the issue or advisory the hotfix is for (recorded as Hotfix-For)")
	fs.Var(&f.updates, "update", "packages to take at their newest version from the mirror (repeatable or comma-separated); the rest stay as locked")
	fs.StringVar(&f.configRef, "config-ref", "", "move the config tree to this ref")
	fs.BoolVar(&f.disruptive, "disruptive", false, "the hotfix needs machines drained or recreated (the disruption serial counts up)")
	fs.BoolVar(&f.test, "test", false, "boot-test the hotfix right after the build")
	fs.StringVar(&f.reason, "reason", "", "note for the audit log (default: Hotfix-For and the base)")
	fs.StringVar(&f.build.treeDir, "tree-dir", "", "where the root tree is made (default /dev/shm when it has room; env BAKERY_TREE_DIR)")
	fs.StringVar(&f.build.aptDir, "apt-config", "/etc/apt", "host apt configuration to take the default mirror from")
	actor := actorFlag(fs, g)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || f.line == "" || f.forID == "" {
		return usagef("hotfix needs PRODUCT, --line X.Y and --for ID")
	}
	c, err := openRelease(ctx, g, fs.Arg(0), *actor)
	if err != nil {
		return err
	}
	defer c.Close()
	plan, err := c.state.Hotfix(f.line, f.disruptive)
	if err != nil {
		return usagef("%v", err)
	}
	o, err := hotfixOptions(ctx, g, f, c.st, plan)
	if err != nil {
		return err
	}
	p, steps, err := build.Prepare(ctx, o)
	if err != nil {
		return err
	}
	res, err := build.Execute(ctx, o, p, steps)
	if err != nil {
		return err
	}
	ch, err := c.state.RecordHotfix(res.Image, plan, f.forID, c.request(f.reason, false))
	if err == nil {
		_, err = c.st.catalog.ApplyChange(ctx, ch)
	}
	if err != nil {
		return fmt.Errorf("recording %s as a hotfix: %w", res.Image.Name, err)
	}
	if err := printBuilt(g, res, false); err != nil {
		return err
	}
	if f.test {
		return bootTest(ctx, g, res.Image.Name, testFlags{}, c.st)
	}
	return nil
}

// hotfixOptions are the build options of the line head, with the hotfix's
// version and the requested updates applied to its recipe and lock.
func hotfixOptions(ctx context.Context, g *globals, f hotfixFlags, st *stateHandles, plan release.HotfixPlan) (build.Options, error) {
	o, err := storedBuild(ctx, g, f.build, st, plan.Base)
	if err != nil {
		return build.Options{}, err
	}
	r := *o.Recipe
	r.Version = plan.Next.String()
	if f.configRef != "" {
		if r.Config == nil {
			return build.Options{}, usagef("--config-ref: %s has no config tree", plan.Base.Name)
		}
		cfg := *r.Config
		cfg.Ref = f.configRef
		r.Config = &cfg
	}
	o.Recipe = &r
	if len(f.updates) == 0 && f.configRef == "" {
		return o, nil
	}
	o.Lock, err = updatedLock(ctx, o, f)
	return o, err
}

// updatedLock resolves the recipe afresh and moves the requested packages
// and the config tree in the head's lock; everything else stays pinned.
func updatedLock(ctx context.Context, o build.Options, f hotfixFlags) (*lock.Lock, error) {
	base := o.Lock
	o.Lock = nil
	p, _, err := build.Prepare(ctx, o) // unlocked: resolves the config tree at its new ref
	if err != nil {
		return nil, err
	}
	l := base
	if len(f.updates) > 0 {
		start := time.Now()
		fresh, err := lock.Resolve(ctx, lock.Options{
			Inputs: build.LockInputs(p), Mirror: o.Mirror, SecurityMirror: o.SecurityMirror, Tools: p.Tools,
			WorkDir: o.WorkDir, Runner: runner.Exec{}, Logger: o.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("resolving updates: %w", err)
		}
		if l, err = lock.Update(base, fresh, f.updates); err != nil {
			return nil, usagef("%v", err)
		}
		c := lock.Diff(base, l)
		o.Logger.Info("hotfix updates", "packages", len(c.Upgraded)+len(c.Added), "resolved_in", time.Since(start).Round(time.Millisecond))
	}
	if err := build.PinConfig(p, l); err != nil {
		return nil, err
	}
	return l, nil
}
