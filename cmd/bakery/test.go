package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/boottest"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
)

type testFlags struct {
	firmware string
	accel    string
	timeout  time.Duration
	checkTO  time.Duration // each command on the machine: start-up wait, a recipe test
	parallel int
	recipe   string // recipe file whose tests run instead of the catalog's
	testsDir string // where the catalog recipe's test paths are looked up
	out      string // directory that also receives each image's report files
	userData string // #cloud-config file merged into the seed's user-data
}

// errTestFailed is returned when an image was tested and a check failed.
var errTestFailed = errors.New("boot test failed")

// defaultParallel is how many images are tested at once by default: each
// machine gets boottest.DefaultCPUs virtual CPUs.
func defaultParallel() int { return max(1, runtime.NumCPU()/boottest.DefaultCPUs) }

func runTest(ctx context.Context, g *globals, args []string) error {
	f := testFlags{}
	fs := g.flagSet("test", "bakery test [flags] IMAGE... (catalog names or qcow2 paths)")
	fs.StringVar(&f.firmware, "firmware", "bios,uefi", "firmwares to boot with: bios, uefi or both")
	fs.StringVar(&f.accel, "accel", "auto", "accelerator: auto (KVM only if a probe guest really runs), kvm or tcg")
	fs.DurationVar(&f.timeout, "timeout", boottest.DefaultTimeout, "time allowed for each boot until SSH answers")
	fs.DurationVar(&f.checkTO, "check-timeout", boottest.DefaultCheckTimeout, "time allowed for each check on the machine (waiting for start-up and cloud-init, a recipe test)")
	fs.IntVar(&f.parallel, "parallel", defaultParallel(), "images tested at once (at most the number of CPUs)")
	fs.StringVar(&f.recipe, "recipe", "", "run this recipe's tests (paths relative to it) instead of the catalog recipe's")
	fs.StringVar(&f.testsDir, "tests-dir", ".", "directory the catalog recipe's test paths are relative to")
	fs.StringVar(&f.out, "out", "", "also write each image's report.json, junit.xml and console logs to DIR/IMAGE/")
	fs.StringVar(&f.userData, "user-data", "", "merge this #cloud-config file (deploy-time data, e.g. write_files) into the seed's user-data")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("test needs at least one image (catalog name or qcow2 path)")
	}
	if f.parallel < 1 || f.parallel > runtime.NumCPU() {
		return usagef("--parallel %d: want 1 to %d (the number of CPUs)", f.parallel, runtime.NumCPU())
	}
	st, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return testImages(ctx, g, fs.Args(), f, st)
}

// bootTest tests one image (a catalog name or a qcow2 path); bakery build
// --test calls it with the image it built.
func bootTest(ctx context.Context, g *globals, image string, f testFlags, st *stateHandles) error {
	return testImages(ctx, g, []string{image}, f, st)
}

// testImages resolves every argument first (a mistake is a usage error
// before anything boots), then tests the images, f.parallel at a time.
func testImages(ctx context.Context, g *globals, args []string, f testFlags, st *stateHandles) error {
	f = f.withDefaults()
	o, err := f.qaOptions()
	if err != nil {
		return err
	}
	targets := make([]*testTarget, len(args))
	for i, arg := range args {
		if targets[i], err = resolveTarget(ctx, st, arg, f); err != nil {
			return err
		}
	}
	outcomes := make([]testOutcome, len(targets))
	var wg sync.WaitGroup
	var printMu sync.Mutex
	sem := make(chan struct{}, f.parallel)
	for i, t := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			outcomes[i] = testOne(ctx, g, st, t, o, f, len(targets) > 1)
			if !g.json {
				printMu.Lock()
				printOutcome(g, outcomes[i])
				printMu.Unlock()
			}
		})
	}
	wg.Wait()
	return finishTests(g, outcomes)
}

func (f testFlags) withDefaults() testFlags {
	if f.firmware == "" {
		f.firmware = "bios,uefi"
	}
	if f.parallel == 0 {
		f.parallel = defaultParallel()
	}
	if f.testsDir == "" {
		f.testsDir = "."
	}
	return f
}

// qaOptions turns the flags into the options every image shares.
func (f testFlags) qaOptions() (boottest.QAOptions, error) {
	fws, err := parseFirmwares(f.firmware)
	if err != nil {
		return boottest.QAOptions{}, err
	}
	accel, err := parseAccel(f.accel)
	if err != nil {
		return boottest.QAOptions{}, err
	}
	if f.timeout < 0 || f.checkTO < 0 {
		return boottest.QAOptions{}, usagef("--timeout and --check-timeout must not be negative")
	}
	ud, err := readUserData(f.userData)
	if err != nil {
		return boottest.QAOptions{}, err
	}
	return boottest.QAOptions{Firmwares: fws, Accel: accel, Timeout: f.timeout, CheckTimeout: f.checkTO, UserData: ud}, nil
}

// readUserData reads --user-data's file, which must be a #cloud-config
// mapping; nil without the flag.
func readUserData(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--user-data: %v", err)
	}
	if _, err := boottest.ParseCloudConfig(data); err != nil {
		return nil, usagef("--user-data %s: %v (a YAML mapping after a first line %q)", path, err, "#cloud-config")
	}
	return data, nil
}

func parseFirmwares(s string) ([]qemu.Firmware, error) {
	var out []qemu.Firmware
	for _, p := range strings.Split(s, ",") {
		switch p = strings.TrimSpace(p); p {
		case "bios", "uefi":
			out = append(out, qemu.Firmware(p))
		default:
			return nil, usagef("--firmware: %q is not bios or uefi", p)
		}
	}
	return out, nil
}

func parseAccel(s string) (qemu.Accel, error) {
	switch s {
	case "", "auto":
		return "", nil
	case "kvm", "tcg":
		return qemu.Accel(s), nil
	}
	return "", usagef("--accel: %q is not auto, kvm or tcg", s)
}

// testOutcome is how testing one image went.
type testOutcome struct {
	target *testTarget
	report boottest.Report
	err    error             // nil, wrapping boottest.ErrQAFailed, or why testing stopped
	files  map[string]string // kept report files by kind: where to find them
}

// testOne tests one image in a work directory under the state directory
// that is removed before it returns, and keeps the results: in the
// catalog and artifact store for a catalog image, in --out if given, and
// the consoles of failed boots in STATE/consoles for a file.
func testOne(ctx context.Context, g *globals, st *stateHandles, t *testTarget, o boottest.QAOptions, f testFlags, many bool) testOutcome {
	out := testOutcome{target: t}
	work, err := makeWorkDir(st)
	if err != nil {
		out.err = err
		return out
	}
	defer os.RemoveAll(work)
	o.Image, o.Release, o.Tests = t.path, t.release(), t.scripts
	o.WorkDir, o.ConsoleDir = work, filepath.Join(work, "consoles")
	o.Logger, o.Progress = g.logger(), g.sink()
	if many {
		o.Progress = prefixSink{prefix: t.label() + " ", sink: o.Progress}
	}
	out.report, out.err = boottest.Test(ctx, runner.Exec{}, o)
	if out.err != nil && !errors.Is(out.err, boottest.ErrQAFailed) {
		return out // not tested to the end: nothing to keep but the consoles
	}
	out.files, err = keepResults(ctx, st, t, out.report, work, f.out)
	if err != nil {
		out.err = errors.Join(out.err, err)
	}
	return out
}

func makeWorkDir(st *stateHandles) (string, error) {
	parent := filepath.Join(st.dir, "work")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("creating test directory: %w", err)
	}
	dir, err := os.MkdirTemp(parent, "test-")
	if err != nil {
		return "", fmt.Errorf("creating test directory: %w", err)
	}
	return dir, nil
}

// prefixSink names the image in the stage of every event when several
// images are tested at once.
type prefixSink struct {
	prefix string
	sink   progress.Sink
}

func (p prefixSink) Emit(e progress.Event) {
	e.Stage = p.prefix + e.Stage
	p.sink.Emit(e)
}

// finishTests prints the JSON results and turns failures into the exit
// status: 0 only if every image passed every check.
func finishTests(g *globals, outcomes []testOutcome) error {
	if g.json {
		reports := make([]jsonOutcome, len(outcomes))
		for i, o := range outcomes {
			reports[i] = jsonOutcome{Image: o.target.label(), Report: o.report, Files: o.files}
			if o.err != nil {
				reports[i].Error = o.err.Error()
			}
		}
		if err := printJSON(g, reports); err != nil {
			return err
		}
	}
	var errs []error
	for _, o := range outcomes {
		switch {
		case o.err == nil:
		case errors.Is(o.err, boottest.ErrQAFailed):
			errs = append(errs, fmt.Errorf("%s: %w", o.target.label(), errTestFailed))
		default:
			errs = append(errs, o.err)
		}
	}
	return errors.Join(errs...)
}

// jsonOutcome is one image's entry in bakery test --json.
type jsonOutcome struct {
	Image  string            `json:"image"`
	Report boottest.Report   `json:"report"`
	Files  map[string]string `json:"files,omitempty"`
	Error  string            `json:"error,omitempty"`
}

// printOutcome prints one image's verdict and checks.
func printOutcome(g *globals, o testOutcome) {
	w, r := g.stdout, o.report
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %s (%s, %s, boot to SSH %s, %s)\n", o.target.label(), verdict, orDash(string(r.Accel)),
		firmwareList(r.Boots), bootTimes(r.Boots), r.Duration.Round(time.Second))
	for _, c := range r.Checks {
		printCheck(g, c)
	}
	if o.err != nil && !errors.Is(o.err, boottest.ErrQAFailed) {
		fmt.Fprintf(w, "  error: %v\n", o.err)
	}
	for _, kind := range []string{catalog.KindQAReport, catalog.KindQAJUnit} {
		if p := o.files[kind]; p != "" {
			fmt.Fprintf(w, "  %-9s %s\n", strings.TrimPrefix(kind, "qa-")+":", p)
		}
	}
	for _, b := range r.Boots {
		if p := o.files[catalog.KindConsole+"-"+string(b.Firmware)]; p != "" && !b.Passed {
			fmt.Fprintf(w, "  console:  %s\n", p)
		}
	}
}

func printCheck(g *globals, c boottest.Check) {
	mark := "PASS"
	switch {
	case c.Skipped:
		mark = "SKIP"
	case !c.Passed:
		mark = "FAIL"
	}
	fw := string(c.Firmware)
	if fw == "" {
		fw = "-"
	}
	ev, _, _ := strings.Cut(c.Evidence, "\n")
	fmt.Fprintf(g.stdout, "  %s  %-4s  %-28s %6.1fs  %s\n", mark, fw, c.Name, c.Duration.Seconds(), ev)
	if c.Output != "" && (!c.Passed || g.verbose) {
		for _, line := range strings.Split(strings.TrimRight(c.Output, "\n"), "\n") {
			fmt.Fprintf(g.stdout, "        | %s\n", line)
		}
	}
}

func firmwareList(boots []boottest.Boot) string {
	var fws []string
	for _, b := range boots {
		fws = append(fws, string(b.Firmware))
	}
	return orDash(strings.Join(fws, "+"))
}

func bootTimes(boots []boottest.Boot) string {
	var ts []string
	for _, b := range boots {
		if b.Passed {
			ts = append(ts, fmt.Sprintf("%.1fs", b.BootToSSH.Seconds()))
		} else {
			ts = append(ts, "never")
		}
	}
	return orDash(strings.Join(ts, "/"))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// testTarget is one image to test: a file, and its catalog record when it
// is a catalog image.
type testTarget struct {
	arg     string
	path    string         // the qcow2
	image   *catalog.Image // nil for a file that is no catalog image
	scripts []boottest.Script
}

func (t *testTarget) label() string {
	if t.image != nil {
		return t.image.Name
	}
	return t.arg
}

func (t *testTarget) release() *boottest.Release {
	if t.image == nil {
		return nil
	}
	return &boottest.Release{Name: t.image.Name, Product: t.image.Product, Version: t.image.Version, BuildID: t.image.BuildID}
}

// resolveTarget finds the image an argument names: a catalog name, or a
// qcow2 file, which is the catalog image it is a link to if any.
func resolveTarget(ctx context.Context, st *stateHandles, arg string, f testFlags) (*testTarget, error) {
	t := &testTarget{arg: arg}
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		t.path = arg
		img, err := catalogImageOfFile(ctx, st, fi)
		if err != nil {
			return nil, err
		}
		t.image = img
	} else if err := t.fromCatalog(ctx, st, arg); err != nil {
		return nil, err
	}
	var err error
	t.scripts, err = recipeScripts(ctx, st, t.image, f)
	return t, err
}

func (t *testTarget) fromCatalog(ctx context.Context, st *stateHandles, name string) error {
	img, err := st.catalog.GetImage(ctx, name)
	if errors.Is(err, catalog.ErrNotFound) {
		return usagef("%s is neither a file nor an image in the catalog (see 'bakery images')", name)
	}
	if err != nil {
		return err
	}
	for _, a := range img.Artifacts {
		if a.Kind == catalog.KindQcow2 {
			t.image = &img
			t.path, err = st.store.Path(a.Digest)
			return err
		}
	}
	return fmt.Errorf("image %s has no qcow2 artifact", name)
}

// catalogImageOfFile returns the catalog image whose qcow2 is the file
// (the same inode: a link from STATE/images or the store itself), or nil.
func catalogImageOfFile(ctx context.Context, st *stateHandles, fi os.FileInfo) (*catalog.Image, error) {
	imgs, err := st.catalog.ListImages(ctx, catalog.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i, img := range imgs {
		for _, a := range img.Artifacts {
			if a.Kind != catalog.KindQcow2 || a.Size != fi.Size() {
				continue
			}
			p, err := st.store.Path(a.Digest)
			if err != nil {
				continue
			}
			if other, err := os.Stat(p); err == nil && os.SameFile(fi, other) {
				return &imgs[i], nil
			}
		}
	}
	return nil, nil
}

// recipeScripts returns the recipe tests to run: --recipe's, else those the
// catalog image's recipe lists, taken from the image's test-script
// artifacts or else from --tests-dir.
func recipeScripts(ctx context.Context, st *stateHandles, img *catalog.Image, f testFlags) ([]boottest.Script, error) {
	if f.recipe != "" {
		return scriptsOfRecipeFile(f.recipe)
	}
	if img == nil {
		return nil, nil
	}
	var listed struct {
		Tests []string `yaml:"tests"`
	}
	if err := yaml.Unmarshal(img.Recipe, &listed); err != nil {
		return nil, fmt.Errorf("reading the tests of %s's recipe: %w", img.Name, err)
	}
	scripts := make([]boottest.Script, len(listed.Tests))
	for i, name := range listed.Tests {
		scripts[i] = catalogScript(st, img, name, f.testsDir)
	}
	return scripts, nil
}

func scriptsOfRecipeFile(path string) ([]boottest.Script, error) {
	r, err := recipe.Load(path)
	if err != nil {
		return nil, err
	}
	scripts := make([]boottest.Script, len(r.Tests))
	for i, p := range r.TestPaths(filepath.Dir(path)) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usagef("recipe test %s of %s: %v", r.Tests[i], path, err)
		}
		scripts[i] = boottest.Script{Name: r.Tests[i], Content: b}
	}
	return scripts, nil
}

func catalogScript(st *stateHandles, img *catalog.Image, name, testsDir string) boottest.Script {
	for _, a := range img.Artifacts {
		if a.Kind != catalog.KindTestScript || a.Filename != name {
			continue
		}
		if p, err := st.store.Path(a.Digest); err == nil {
			if b, err := os.ReadFile(p); err == nil {
				return boottest.Script{Name: name, Content: b}
			}
		}
	}
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(testsDir, name)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return boottest.Script{Name: name, Missing: fmt.Sprintf("not stored with the image and not readable at %s (%v); use --recipe or --tests-dir", p, err)}
	}
	return boottest.Script{Name: name, Content: b}
}

// resultFile is one file a test keeps.
type resultFile struct {
	key  string // catalog.KindQAReport, catalog.KindQAJUnit, "console-FW"
	kind string
	path string
}

// keepResults writes the report and JUnit files, then keeps them with the
// consoles: for a catalog image in the artifact store, recorded with the
// QA verdict and linked to STATE/images/NAME/qa/ (the latest run's files
// only); in --out/IMAGE/ if
// given; for a file without --out, the consoles of failed boots go to
// STATE/consoles. It returns where each file is kept.
func keepResults(ctx context.Context, st *stateHandles, t *testTarget, rep boottest.Report, work, outDir string) (map[string]string, error) {
	files, err := writeResultFiles(rep, work)
	if err != nil {
		return nil, err
	}
	kept := map[string]string{}
	if t.image != nil {
		if err := recordResults(ctx, st, t.image.Name, rep, files, kept); err != nil {
			return kept, err
		}
	}
	if outDir != "" {
		return kept, copyResults(files, filepath.Join(outDir, safeName(t.label())), kept)
	}
	if t.image == nil {
		keepFailedConsoles(st, t, rep, files, kept)
	}
	return kept, nil
}

func writeResultFiles(rep boottest.Report, work string) ([]resultFile, error) {
	js, err := rep.JSON()
	if err != nil {
		return nil, err
	}
	junit, err := rep.JUnit()
	if err != nil {
		return nil, err
	}
	files := []resultFile{
		{catalog.KindQAReport, catalog.KindQAReport, filepath.Join(work, "qa-report.json")},
		{catalog.KindQAJUnit, catalog.KindQAJUnit, filepath.Join(work, "qa-junit.xml")},
	}
	for i, data := range [][]byte{js, junit} {
		if err := os.WriteFile(files[i].path, data, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", files[i].path, err)
		}
	}
	for _, b := range rep.Boots {
		if _, err := os.Stat(b.ConsoleLog); err == nil {
			files = append(files, resultFile{catalog.KindConsole + "-" + string(b.Firmware), catalog.KindConsole, b.ConsoleLog})
		}
	}
	return files, nil
}

// recordResults stores the files in the artifact store and records the
// verdict in the catalog.
func recordResults(ctx context.Context, st *stateHandles, name string, rep boottest.Report, files []resultFile, kept map[string]string) error {
	var arts []catalog.Artifact
	qaDir := filepath.Join(st.dir, "images", name, "qa")
	_ = os.RemoveAll(qaDir) // links to an earlier run's files
	for _, f := range files {
		a, err := storeFile(ctx, st, f)
		if err != nil {
			return err
		}
		arts = append(arts, a)
		dst := filepath.Join(qaDir, a.Filename)
		if err := linkBlob(st, a.Digest, dst); err == nil {
			kept[f.key] = dst
		}
	}
	if err := st.catalog.RecordQA(ctx, name, rep.QAResult(arts)); err != nil {
		return fmt.Errorf("recording the verdict of %s: %w", name, err)
	}
	return nil
}

func storeFile(ctx context.Context, st *stateHandles, f resultFile) (catalog.Artifact, error) {
	digest, size, err := artifact.DigestFile(f.path)
	if err != nil {
		return catalog.Artifact{}, fmt.Errorf("storing %s: %w", f.path, err)
	}
	in, err := os.Open(f.path)
	if err != nil {
		return catalog.Artifact{}, fmt.Errorf("storing %s: %w", f.path, err)
	}
	defer in.Close()
	if err := st.store.Put(ctx, digest, in); err != nil {
		return catalog.Artifact{}, fmt.Errorf("storing %s: %w", f.path, err)
	}
	return catalog.Artifact{Kind: f.kind, Filename: filepath.Base(f.path), Digest: digest, Size: size}, nil
}

// linkBlob makes dst a link to a stored blob, replacing what was there.
func linkBlob(st *stateHandles, digest, dst string) error {
	src, err := st.store.Path(digest)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	_ = os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return os.Symlink(src, dst)
}

func copyResults(files []resultFile, dir string, kept map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, f := range files {
		dst := filepath.Join(dir, filepath.Base(f.path))
		if err := copyFile(f.path, dst); err != nil {
			return err
		}
		if _, ok := kept[f.key]; !ok {
			kept[f.key] = dst
		}
	}
	return nil
}

func keepFailedConsoles(st *stateHandles, t *testTarget, rep boottest.Report, files []resultFile, kept map[string]string) {
	for _, b := range rep.Boots {
		if b.Passed {
			continue
		}
		dst := filepath.Join(st.dir, "consoles", safeName(filepath.Base(t.path))+"-"+string(b.Firmware)+"-console.log")
		if os.MkdirAll(filepath.Dir(dst), 0o755) == nil && copyFile(b.ConsoleLog, dst) == nil {
			kept[catalog.KindConsole+"-"+string(b.Firmware)] = dst
		}
	}
}

// copyFile copies src to dst through a temporary file renamed into place.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// safeName makes an image name or path usable as one file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == 0 {
			return '_'
		}
		return r
	}, strings.TrimSuffix(filepath.Base(s), ".qcow2"))
}
