package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/treediff"
)

// MaxDifferences is how many differing paths a verify report names.
const MaxDifferences = 10

// ErrBuildIDMismatch is wrapped by Verify when the lock and recipe given
// no longer make the recorded image's build ID: rebuilding them could not
// reproduce it.
var ErrBuildIDMismatch = errors.New("the lock and recipe do not give the image's build ID")

// verifiedKinds are the outputs a rebuild must reproduce bit for bit.
var verifiedKinds = []string{catalog.KindRootfsTar, catalog.KindRaw, catalog.KindQcow2}

// VerifyReport is the outcome of rebuilding a recorded image.
type VerifyReport struct {
	Image          string                `json:"image"`
	BuildID        string                `json:"build_id"`
	Identical      bool                  `json:"identical"`
	Outputs        []OutputCheck         `json:"outputs"`
	TreeCompared   bool                  `json:"tree_compared"`            // the rootfs tarballs differed and were compared entry by entry
	DifferentFiles int                   `json:"different_files"`          // how many paths differ, when compared
	Differences    []treediff.Difference `json:"differences,omitempty"`    // the first MaxDifferences, by path
	RebuildSeconds float64               `json:"rebuild_seconds"`          // wall time of the rebuild
	Rebuilt        string                `json:"rebuilt_serial,omitempty"` // the scratch build's serial (never recorded)
}

// OutputCheck compares one output of the recorded image and the rebuild.
type OutputCheck struct {
	Kind      string `json:"kind"`
	Recorded  string `json:"recorded"`
	Rebuilt   string `json:"rebuilt"`
	Identical bool   `json:"identical"`
}

// Verify rebuilds a recorded image from the lock and recipe in o, in a
// workspace under o.WorkDir that is removed afterwards, records nothing,
// and compares the rootfs tarball, raw disk and qcow2 with the recorded
// ones (read from o.Store). When the tarballs differ it names the first
// differing paths of the root tree.
func Verify(ctx context.Context, o Options, recorded catalog.Image) (VerifyReport, error) {
	if err := runner.Require(Tools()...); err != nil {
		return VerifyReport{}, err
	}
	p, plan, err := Prepare(ctx, o)
	if err != nil {
		return VerifyReport{}, err
	}
	if p.Identity.BuildID != recorded.BuildID {
		return VerifyReport{}, fmt.Errorf("verifying %s: %w (%s, the image has %s)", recorded.Name, ErrBuildIDMismatch, p.Identity.BuildID, recorded.BuildID)
	}
	ws, err := o.workspace()
	if err != nil {
		return VerifyReport{}, err
	}
	rep, err := rebuildAndCompare(ctx, ws, plan, o, recorded)
	if cerr := ws.Cleanup(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("cleaning up workspace: %w", cerr))
	}
	rep.Rebuilt = p.Identity.Serial
	return rep, err
}

func rebuildAndCompare(ctx context.Context, ws *Workspace, plan Plan, o Options, recorded catalog.Image) (VerifyReport, error) {
	rep := VerifyReport{Image: recorded.Name, BuildID: recorded.BuildID}
	start := time.Now()
	if err := runStages(ctx, ws, plan, o.Progress); err != nil {
		return rep, fmt.Errorf("rebuilding %s: %w", recorded.Name, err)
	}
	rep.RebuildSeconds = time.Since(start).Seconds()
	done := progress.Stage(o.Progress, "compare")
	err := compare(ctx, ws, o, recorded, &rep)
	done(err)
	return rep, err
}

// compare fills the report: each verified output's digests, and the tree
// differences when the rootfs tarballs differ.
func compare(ctx context.Context, ws *Workspace, o Options, recorded catalog.Image, rep *VerifyReport) error {
	rep.Identical = true
	tarDiffers := false
	for _, a := range recorded.Artifacts {
		if !slices.Contains(verifiedKinds, a.Kind) {
			continue
		}
		c := OutputCheck{Kind: a.Kind, Recorded: a.Digest}
		if out, ok := ws.Output(a.Kind); ok {
			d, _, err := ws.Digest(out)
			if err != nil {
				return err
			}
			c.Rebuilt, c.Identical = d, d == a.Digest
		}
		rep.Outputs = append(rep.Outputs, c)
		rep.Identical = rep.Identical && c.Identical
		tarDiffers = tarDiffers || (a.Kind == catalog.KindRootfsTar && !c.Identical)
	}
	if len(rep.Outputs) == 0 {
		return fmt.Errorf("verifying %s: it has no rootfs tarball, raw disk or qcow2 to compare", recorded.Name)
	}
	if !tarDiffers {
		return nil
	}
	return diffTrees(ctx, ws, o, recorded, rep)
}

// diffTrees compares the recorded and the rebuilt rootfs tarballs entry by
// entry.
func diffTrees(ctx context.Context, ws *Workspace, o Options, recorded catalog.Image, rep *VerifyReport) error {
	out, ok := ws.Output(catalog.KindRootfsTar)
	if !ok {
		return nil
	}
	var digest string
	for _, a := range recorded.Artifacts {
		if a.Kind == catalog.KindRootfsTar {
			digest = a.Digest
		}
	}
	rec, err := o.Store.Open(ctx, digest)
	if err != nil {
		return fmt.Errorf("opening the recorded rootfs tarball: %w", err)
	}
	defer rec.Close()
	a, err := readTarball(ctx, ws.Runner, rec)
	if err != nil {
		return fmt.Errorf("reading the recorded rootfs tarball: %w", err)
	}
	f, err := os.Open(out.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := readTarball(ctx, ws.Runner, f)
	if err != nil {
		return fmt.Errorf("reading the rebuilt rootfs tarball: %w", err)
	}
	diffs := treediff.Compare(a, b)
	rep.TreeCompared, rep.DifferentFiles = true, len(diffs)
	rep.Differences = diffs[:min(len(diffs), MaxDifferences)]
	return nil
}

// readTarball decompresses a zstd tarball with zstd -dc and reads its
// entries.
func readTarball(ctx context.Context, r runner.Runner, src io.Reader) (treediff.Tree, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, runner.Cmd{Args: []string{"zstd", "-dc"}, Stdin: src, Stdout: pw})
		pw.CloseWithError(err)
		done <- err
	}()
	tree, err := treediff.Read(pr)
	if err == nil {
		_, err = io.Copy(io.Discard, pr) // the padding after the end of the archive
	}
	pr.CloseWithError(errors.New("tarball reader stopped")) // unblocks zstd after an error
	zerr := <-done
	if err != nil {
		return nil, err
	}
	if zerr != nil {
		return nil, fmt.Errorf("decompressing: %w", zerr)
	}
	return tree, nil
}
