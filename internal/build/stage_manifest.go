package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/manifest"
)

// Manifest writes the SPDX SBOM and then the manifest, which lists every
// other artifact with its size and sha256.
type Manifest struct {
	Identity     Identity
	RecipeDigest string
	Recipe       json.RawMessage // canonical recipe
	Tools        map[string]string
	Created      time.Time
	Started      time.Time // when the build began, for its duration
	ManifestFile string    // NAME.manifest.json
	SBOMFile     string    // NAME.sbom.spdx.json
}

func (Manifest) Name() string { return "manifest" }

func (s Manifest) Describe() map[string]any {
	return map[string]any{"manifest": s.ManifestFile, "sbom": s.SBOMFile}
}

func (s Manifest) Run(ctx context.Context, ws *Workspace) error {
	if err := s.writeSBOM(ws); err != nil {
		return err
	}
	arts, err := digestOutputs(ws.Artifacts)
	if err != nil {
		return err
	}
	m := manifest.Manifest{
		Name: s.Identity.Name, Product: s.Identity.Product, Version: s.Identity.Version,
		Serial: s.Identity.Serial, BuildID: s.Identity.BuildID, RecipeDigest: s.RecipeDigest,
		Distro: s.Identity.Distro, Release: s.Identity.Release, Arch: s.Identity.Arch,
		ConfigRef: s.Identity.ConfigRef, ConfigCommit: s.Identity.ConfigCommit,
		CreatedAt: s.Created, BuildDuration: manifest.Duration(time.Since(s.Started)),
		Packages: ws.Packages, Artifacts: arts, Hygiene: ws.Hygiene, Tools: s.Tools, Recipe: s.Recipe,
	}
	data, err := m.JSON()
	if err != nil {
		return fmt.Errorf("encoding manifest: %w", err)
	}
	path := ws.Path(s.ManifestFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	ws.AddOutput("manifest", s.ManifestFile, path)
	return nil
}

func (s Manifest) writeSBOM(ws *Workspace) error {
	data, err := manifest.SBOM(ws.Packages, manifest.SBOMOptions{
		Name:      s.Identity.Name,
		Namespace: "https://bakery.invalid/spdx/" + s.Identity.Product + "/" + s.Identity.Name,
		Created:   s.Created, Creator: "bakery",
		Distro: s.Identity.Distro, Release: s.Identity.Release,
	})
	if err != nil {
		return fmt.Errorf("making SBOM: %w", err)
	}
	path := ws.Path(s.SBOMFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing SBOM: %w", err)
	}
	ws.AddOutput("sbom", s.SBOMFile, path)
	return nil
}

// digestOutputs hashes every output (in parallel, one per CPU), records
// the digests in outs for the artifact store, and lists them.
func digestOutputs(outs []Output) ([]manifest.Artifact, error) {
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i := range outs {
		wg.Add(1)
		go func(o *Output) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, size, err := artifact.DigestFile(o.Path)
			if err != nil {
				errs[i] = fmt.Errorf("hashing %s: %w", o.Filename, err)
			}
			o.Digest, o.Size = d, size
		}(&outs[i])
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	arts := make([]manifest.Artifact, 0, len(outs))
	for _, o := range outs {
		arts = append(arts, manifest.Artifact{Kind: o.Kind, Filename: o.Filename, SHA256: Checksum(o.Digest), Size: o.Size})
	}
	return arts, nil
}
