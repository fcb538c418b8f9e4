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
	arts, err := digestOutputs(ws)
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

// digestOutputs hashes every output (in parallel, one per CPU; the
// workspace keeps the digests for the later stages and the artifact store)
// and lists them.
func digestOutputs(ws *Workspace) ([]manifest.Artifact, error) {
	outs := ws.Artifacts
	arts := make([]manifest.Artifact, len(outs))
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, o := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, size, err := ws.Digest(o)
			errs[i] = err
			arts[i] = manifest.Artifact{Kind: o.Kind, Filename: o.Filename, SHA256: Checksum(d), Size: size}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return arts, nil
}
