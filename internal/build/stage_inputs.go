package build

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/progress"
)

// Inputs makes every package of the lock present and verified in the input
// archive (fetching what is missing from the mirrors), then publishes them
// as a local apt repository signed with bakery's own key, from which the
// bootstrap installs. A locked build thus needs no mirror once its inputs
// are archived.
type Inputs struct {
	Lock           *lock.Lock
	Mirror         string // where this build fetches missing release and -updates packages
	SecurityMirror string // and -security ones
	ArchiveDir     string // the input archive (state directory)
	KeyDir         string // where the repository key is kept
	RepoDate       time.Time
}

func (Inputs) Name() string { return "inputs" }

func (s Inputs) Describe() map[string]any {
	d, _ := s.Lock.Digest()
	return map[string]any{"lock": d, "packages": len(s.Lock.Packages), "repository": "REPO"}
}

func (s Inputs) Run(ctx context.Context, ws *Workspace) error {
	archive, err := apt.OpenArchive(s.ArchiveDir, ws.Runner, ws.Logger)
	if err != nil {
		return err
	}
	if err := s.ensure(ctx, ws, archive); err != nil {
		return err
	}
	signer, err := apt.LoadOrCreateSigner(s.KeyDir)
	if err != nil {
		return err
	}
	repo, err := s.repo(ctx, ws, archive)
	if err != nil {
		return err
	}
	if err := repo.Write(signer); err != nil {
		return fmt.Errorf("writing local repository: %w", err)
	}
	return nil
}

// localRepo is the repository Inputs writes into the workspace and the
// bootstrap installs from.
func localRepo(ws *Workspace, release, arch string) apt.Repo {
	return apt.Repo{Dir: ws.Path("repo"), Suite: release, Component: "main", Arch: arch}
}

func (s Inputs) ensure(ctx context.Context, ws *Workspace, archive *apt.Archive) error {
	inputs := make([]apt.Input, len(s.Lock.Packages))
	for i, p := range s.Lock.Packages {
		inputs[i] = apt.Input{Name: p.Name, Version: p.Version, Arch: p.Architecture, SHA256: p.SHA256, Size: p.Size, URLs: s.urls(p)}
	}
	total := int64(len(inputs))
	res, err := archive.Ensure(ctx, inputs, func(n int) {
		if n%50 == 0 || int64(n) == total {
			msg := fmt.Sprintf("packages checked or fetched: %d/%d", n, total)
			ws.Progress.Emit(progress.Event{Time: time.Now(), Kind: progress.Info, Stage: s.Name(), Message: msg})
		}
	})
	if err != nil {
		return fmt.Errorf("collecting locked packages: %w", err)
	}
	ws.Logger.Info("input archive", "present", res.Present, "fetched", res.Fetched, "discarded", res.Discarded, "fetched_bytes", res.FetchedBytes)
	return nil
}

// urls lists where a package may be fetched: this build's mirror for its
// suite (the recipe's, BAKERY_MIRROR or the host's). The archive the lock
// was resolved from is not tried behind the user's back: pointing the
// mirror elsewhere must really keep the build away from it.
func (s Inputs) urls(p lock.Package) []string {
	mirror := s.Mirror
	if strings.HasSuffix(p.Suite, "-security") {
		mirror = s.SecurityMirror
	}
	if mirror == "" {
		return nil
	}
	return []string{strings.TrimRight(mirror, "/") + "/" + p.Filename}
}

func (s Inputs) repo(ctx context.Context, ws *Workspace, archive *apt.Archive) (apt.Repo, error) {
	r := localRepo(ws, s.Lock.Inputs.Release, s.Lock.Inputs.Arch)
	r.Date = s.RepoDate
	for _, p := range s.Lock.Packages {
		ctl, err := archive.Control(ctx, p.SHA256)
		if err != nil {
			return apt.Repo{}, err
		}
		if err := checkControl(ctl, p); err != nil {
			return apt.Repo{}, err
		}
		path, err := archive.Path(p.SHA256)
		if err != nil {
			return apt.Repo{}, err
		}
		r.Packages = append(r.Packages, apt.RepoPackage{Control: ctl, Path: path, SHA256: p.SHA256, Size: p.Size})
	}
	return r, nil
}

// checkControl makes sure the archived file is the package the lock names.
func checkControl(ctl apt.Paragraph, p lock.Package) error {
	name, _ := ctl.Value("Package")
	version, _ := ctl.Value("Version")
	arch, _ := ctl.Value("Architecture")
	if name != p.Name || version != p.Version || arch != p.Architecture {
		return fmt.Errorf("input archive: %s holds %s %s (%s), the lock says %s %s (%s)", p.SHA256[:12], name, version, arch, p.Name, p.Version, p.Architecture)
	}
	return nil
}

// inputStages collects a locked build's packages before the bootstrap.
func inputStages(p Params) []Stage {
	if p.Lock == nil {
		return nil
	}
	return []Stage{Inputs{Lock: p.Lock, Mirror: p.Mirror, SecurityMirror: p.SecurityMirror,
		ArchiveDir: p.InputsDir, KeyDir: p.KeyDir, RepoDate: time.Unix(p.SourceDateEpoch, 0).UTC()}}
}
