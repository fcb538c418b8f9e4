// Command bakery builds, tests and records golden OS images.
//
// This package only parses flags and environment into Options and wires the
// internal packages together; the logic lives in internal/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// usageError marks mistakes in how bakery was called: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, g *globals, args []string) error
}

func commands() []command {
	return []command{
		{"build", "bake an image from a recipe and record it in the catalog", runBuild},
		{"lock", "pin every input of a recipe in RECIPE.lock (--update, --diff)", runLock},
		{"cache", "list and prune the stage cache of bootstrapped trees (ls, prune)", runCache},
		{"test", "boot-test an image (catalog name or qcow2 path) under QEMU", runTest},
		{"images", "list the images in the catalog", runImages},
		{"show", "show one image: artifacts, packages, hygiene report (--provenance: its SLSA provenance)", runShow},
		{"verify", "rebuild an image from its stored lock in a scratch directory and compare, bit for bit", runVerify},
		{"services", "show a recipe's service matrix: Puppetfile modules and the front-ends using them", runServices},
		{"promote", "move a version one channel further, through the gates (QA, soak, no downgrade)", runPromote},
		{"revoke", "revoke a version everywhere; channels pointing at it move back", runRevoke},
		{"unrevoke", "undo a revocation", runUnrevoke},
		{"hotfix", "build the next patch of an older line from its head's lock (--update, --config-ref)", runHotfix},
		{"security-release", "mark a version as a security release (advisories, severity)", runSecurityRelease},
		{"support", "show a product's release lines with end of life and status", runSupport},
		{"upgrade-path", "show the allowed upgrade hops between two versions", runUpgradePath},
		{"pins", "write the pinned versions of products on a channel, for deployers", runPins},
		{"log", "show the audit log of release actions", runLog},
		{"feed", "print the Atom feed of releases or security releases (all products or one)", runFeed},
		{"webhook", "manage webhooks (add, ls, rm, deliveries) and deliver their events (deliver)", runWebhook},
		{"keygen", "make the OpenPGP key that signs the published simplestreams", runKeygen},
		{"publish", "write the catalog as a signed simplestreams mirror into a directory (--to DIR)", runPublish},
		{"serve", "serve the catalog over HTTP as a signed simplestreams mirror (--listen)", runServe},
		{"token", "manage API tokens: create --name N --role R [--expires 30d], ls, revoke NAME", runToken},
		{"version", "print bakery's version; 'version compare' and 'version next' apply version schemes", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, &globals{stdout: stdout, stderr: stderr, getenv: os.LookupEnv}, args)
}

func runWith(ctx context.Context, g *globals, args []string) int {
	stderr := g.stderr
	fs := g.flagSet("bakery", "bakery [global flags] COMMAND [flags] [args]")
	fs.Usage = func() { printUsage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		return exitCode(err, stderr)
	}
	if fs.NArg() == 0 {
		printUsage(stderr, fs)
		return 2
	}
	name := fs.Arg(0)
	for _, c := range commands() {
		if c.name == name {
			return exitCode(c.run(ctx, g, fs.Args()[1:]), stderr)
		}
	}
	fmt.Fprintf(stderr, "bakery: unknown command %q (run 'bakery --help')\n", name)
	return 2
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case isUsage(err):
		fmt.Fprintf(stderr, "bakery: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "bakery: %v\n", err)
		return 1
	}
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "bakery builds, tests and records golden OS images.\n\nUsage:\n  bakery [global flags] COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-17s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nGlobal flags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nRun 'bakery COMMAND --help' for a command's flags.\n")
}

// version is set at link time (-ldflags "-X main.version=...").
var version = "dev"
