package build

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/provenance"
)

// Provenance writes the image's SLSA provenance (NAME.provenance.json):
// the outputs made so far are its subjects. It runs last.
type Provenance struct {
	Build    provenance.Build // all but the subjects, the packages of an unlocked build and the end time
	Filename string           // NAME.provenance.json
}

// subjectKinds are the outputs a statement vouches for (the lock and test
// scripts are inputs kept with the image, not products of the build).
var subjectKinds = []string{catalog.KindQcow2, catalog.KindRaw, catalog.KindRootfsTar, catalog.KindManifest, catalog.KindSBOM}

func (Provenance) Name() string { return "provenance" }

func (s Provenance) Describe() map[string]any {
	return map[string]any{"provenance": s.Filename, "pinned_inputs": s.pinnedInputs()}
}

// pinnedInputs counts the dependencies known before the build: a locked
// build's packages and suites, the config tree and its modules, the elements.
func (s Provenance) pinnedInputs() int {
	n := len(s.Build.Elements)
	if s.Build.Lock != nil {
		n += len(s.Build.Lock.Packages) + len(s.Build.Lock.Suites)
	}
	if s.Build.Config != nil {
		n += 1 + len(s.Build.Config.Modules)
	}
	return n
}

func (s Provenance) Run(_ context.Context, ws *Workspace) error {
	b := s.Build
	for _, o := range ws.Artifacts {
		if !slices.Contains(subjectKinds, o.Kind) {
			continue
		}
		d, _, err := ws.Digest(o)
		if err != nil {
			return err
		}
		b.Subjects = append(b.Subjects, provenance.File{Name: o.Filename, SHA256: Checksum(d)})
	}
	if b.Lock == nil {
		for _, p := range ws.Packages {
			b.Packages = append(b.Packages, provenance.Package{Name: p.Name, Version: p.Version, Arch: p.Arch})
		}
	}
	b.Finished = time.Now()
	st, err := provenance.New(b)
	if err != nil {
		return err
	}
	data, err := st.JSON()
	if err != nil {
		return err
	}
	path := ws.Path(s.Filename)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing provenance: %w", err)
	}
	ws.AddOutput(catalog.KindProvenance, s.Filename, path)
	return nil
}

// provenanceStage fills everything of the statement the plan knows.
func provenanceStage(p Params) Provenance {
	r, id := p.Recipe, p.Identity
	b := provenance.Build{
		BuildID: id.BuildID, RecipeDigest: r.Digest(), Recipe: r.Canonical(),
		RecipePath: p.RecipeFile, RecipeDir: p.RecipeDir, Lock: p.Lock,
		ElementsPath: p.ElementsPath, Mirror: p.Mirror, SecurityMirror: p.SecurityMirror,
		FormatSalt: FormatSalt, SourceDateEpoch: p.SourceDateEpoch, BakeryVersion: p.BakeryVersion,
		Tools: p.Tools, Started: p.Started,
	}
	if p.Lock != nil {
		b.LockFile = id.Name + ".lock.json"
	}
	if p.Config != nil {
		b.Config = ptr(p.Config.Lock())
	}
	if len(p.Elements) > 0 {
		b.Elements = element.Lock(p.Elements)
	}
	return Provenance{Build: b, Filename: id.Name + ".provenance.json"}
}

func ptr(l configtree.Lock) *configtree.Lock { return &l }
