package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bakery-dev/bakery/internal/build"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
	"github.com/bakery-dev/bakery/internal/server/api"
)

func runImages(ctx context.Context, g *globals, args []string) error {
	var opt api.ListOptions
	fs := g.flagSet("images", "bakery images [--product NAME] [--channel C] [--limit N] [--json]")
	fs.StringVar(&opt.Product, "product", "", "only images of this product")
	fs.StringVar(&opt.Channel, "channel", "", "only images that head this channel")
	fs.IntVar(&opt.Limit, "limit", 0, "at most this many, newest first (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("images takes no arguments")
	}
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	opt.Packages = g.json // the JSON listing has always held them
	entries, err := svc.Images(ctx, opt)
	if err != nil {
		return fmt.Errorf("listing images: %w", usageOf(err))
	}
	if g.json {
		imgs := []catalog.Image{}
		for _, e := range entries {
			imgs = append(imgs, e.Image)
		}
		return printJSON(g, imgs)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPRODUCT\tVERSION\tSERIAL\tCREATED\tHYGIENE\tQA\tRELEASE\tQCOW2")
	for _, e := range entries {
		img := e.Image
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", img.Name, img.Product, img.Version, img.Serial,
			img.CreatedAt.Format("2006-01-02 15:04"), hygieneSummary(img.Hygiene), qaSummary(e.QA), e.Release.Summary(), qcow2Size(img))
	}
	return tw.Flush()
}

// qaSummary is the verdict column: "untested", "pass 41s" (slowest boot to
// SSH) or "FAIL 2" (failed checks).
func qaSummary(qa *catalog.QAResult) string {
	switch {
	case qa == nil:
		return "untested"
	case qa.Passed:
		return fmt.Sprintf("pass %.0fs", qa.BootToSSH.Seconds())
	}
	return fmt.Sprintf("FAIL %d", len(qa.Failed()))
}

func hygieneSummary(checks []catalog.Check) string {
	failed := 0
	for _, c := range checks {
		if !c.Passed {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Sprintf("%d failed", failed)
	}
	return "pass"
}

func qcow2Size(img catalog.Image) string {
	for _, a := range img.Artifacts {
		if a.Kind == "qcow2" {
			return humanSize(a.Size)
		}
	}
	return "-"
}

func runShow(ctx context.Context, g *globals, args []string) error {
	var packages, prov bool
	fs := g.flagSet("show", "bakery show [--packages] [--provenance] [--json] NAME (artifacts, hygiene, packages, latest QA verdict)")
	fs.BoolVar(&packages, "packages", true, "list the installed packages")
	fs.BoolVar(&prov, "provenance", false, "print the image's provenance (in-toto Statement v1, SLSA Provenance v1 predicate; JSON) and nothing else")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("show needs exactly one image name")
	}
	svc, err := g.releaseService(ctx)
	if err != nil {
		return err
	}
	defer svc.Close()
	e, err := svc.Image(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	img, paths := e.Image, map[string]string{}
	if st := svc.st; st != nil {
		if prov {
			return printProvenance(ctx, g, st, img)
		}
		paths, _ = build.LinkImage(st.store, st.dir+"/images", img)
	} else if prov {
		return usagef("--provenance reads the local artifact store: run it without --server")
	}
	if g.json {
		return printJSON(g, map[string]any{"image": img, "paths": paths, "qa": e.QA, "release": e.Release})
	}
	printImage(g, img, paths, packages)
	printRelease(g, e.Release)
	printQA(g, e.QA)
	return nil
}

// printRelease prints the channels the image leads, its marks and its
// line's support.
func printRelease(g *globals, rs release.ImageStatus) {
	w := g.stdout
	fmt.Fprintf(w, "\nrelease:   channels %s", orDash(strings.Join(rs.Channels, ", ")))
	if rs.Line != "" {
		fmt.Fprintf(w, "; line %s %s", rs.Line, rs.LineStatus)
		if !rs.EndOfLife.IsZero() {
			fmt.Fprintf(w, ", end of life %s", rs.EndOfLife.Format("2006-01-02"))
		}
	}
	fmt.Fprintln(w)
	m := rs.Marks
	if m.Revoked {
		fmt.Fprintf(w, "           REVOKED %s: %s\n", m.RevokedAt.Format("2006-01-02 15:04"), m.RevokedReason)
	}
	if m.Security {
		fmt.Fprintf(w, "           security release (%s): %s\n", m.Severity, strings.Join(m.Advisories, ", "))
	}
	if m.HotfixFor != "" {
		fmt.Fprintf(w, "           Hotfix-For: %s\n", m.HotfixFor)
	}
	if rs.SupersededBy != "" {
		fmt.Fprintf(w, "           SUPERSEDED by security release %s: upgrade\n", rs.SupersededBy)
	}
	if rs.SchemeInvalid != "" {
		fmt.Fprintf(w, "           version outside the product's scheme: %s\n", rs.SchemeInvalid)
	}
}

// printProvenance copies the stored statement to standard output.
func printProvenance(ctx context.Context, g *globals, st *stateHandles, img catalog.Image) error {
	data, err := readArtifact(ctx, st, img, catalog.KindProvenance)
	if errors.Is(err, errNoArtifact) {
		return fmt.Errorf("%s has no provenance (built by a bakery that did not write one)", img.Name)
	}
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(data)
	return err
}

// printQA prints the latest verdict and each of its checks.
func printQA(g *globals, qa *catalog.QAResult) {
	w := g.stdout
	if qa == nil {
		fmt.Fprintf(w, "\nqa:        untested (run 'bakery test')\n")
		return
	}
	verdict := "PASS"
	if !qa.Passed {
		verdict = fmt.Sprintf("FAIL (%d checks failed)", len(qa.Failed()))
	}
	fmt.Fprintf(w, "\nqa:        %s, tested %s in %s\n", verdict, qa.TestedAt.Format("2006-01-02 15:04:05 MST"), qa.Duration.Round(time.Second))
	fmt.Fprintf(w, "           accel %s, firmware %s", qa.Accel, strings.Join(qa.Firmwares, "+"))
	for _, b := range qa.Boots {
		fmt.Fprintf(w, ", %s boot to SSH %.1fs", b.Firmware, b.BootToSSH.Seconds())
	}
	fmt.Fprintln(w)
	for _, c := range qa.Checks {
		mark := "pass"
		switch {
		case c.Skipped:
			mark = "skip"
		case !c.Passed:
			mark = "FAIL"
		}
		ev, _, _ := strings.Cut(c.Evidence, "\n")
		fmt.Fprintf(w, "  %s  %-4s  %-28s %s\n", mark, orDash(c.Firmware), c.Name, ev)
	}
	for _, a := range qa.Artifacts {
		fmt.Fprintf(w, "  %-10s sha256 %s  %s\n", a.Kind, build.Checksum(a.Digest), a.Filename)
	}
}

func printImage(g *globals, img catalog.Image, paths map[string]string, packages bool) {
	w := g.stdout
	fmt.Fprintf(w, "name:      %s\nproduct:   %s\nversion:   %s\nserial:    %s\n", img.Name, img.Product, img.Version, img.Serial)
	fmt.Fprintf(w, "system:    %s %s %s\nbuild id:  %s\nrecipe:    %s\n", img.Distro, img.Release, img.Arch, img.BuildID, img.RecipeDigest)
	fmt.Fprintf(w, "created:   %s (build took %s)\n\nartifacts:\n", img.CreatedAt.Format("2006-01-02 15:04:05 MST"), img.BuildDuration)
	for _, a := range img.Artifacts {
		fmt.Fprintf(w, "  %-10s %-10s sha256 %s  %s\n", a.Kind, humanSize(a.Size), build.Checksum(a.Digest), paths[a.Kind])
	}
	fmt.Fprintf(w, "\nhygiene:\n")
	for _, c := range img.Hygiene {
		verdict := "pass"
		if !c.Passed {
			verdict = fmt.Sprintf("FAIL %v", c.Found)
		}
		fmt.Fprintf(w, "  %-18s %s\n", c.Name, verdict)
	}
	if packages {
		fmt.Fprintf(w, "\npackages (%d):\n", len(img.Packages))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, p := range img.Packages {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, p.Version, p.Arch)
		}
		tw.Flush()
	}
}
