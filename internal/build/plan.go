package build

import (
	"encoding/json"
	"time"

	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/recipe"
)

// Params is everything a plan depends on besides the recipe. Planning does
// no I/O: the caller resolves mirrors, the serial and tool versions first.
type Params struct {
	Recipe          *recipe.Recipe
	Mirror          string
	SecurityMirror  string
	Identity        Identity
	SourceDateEpoch int64
	Created         time.Time
	Started         time.Time
	Tools           map[string]string
	Config          *configtree.Tree  // the resolved config tree; nil without one
	Elements        []element.Element // the resolved elements, in build order
	ElementsPath    []string          // where they were found (ELEMENTS_PATH for scripts)
	Lock            *lock.Lock        // the recipe's lock; nil for an unlocked build
	InputsDir       string            // the input archive (locked builds)
	KeyDir          string            // the local repository's signing key (locked builds)
	RecipeDir       string            // the recipe's directory: its tests' paths are relative to it
	RecipeFile      string            // the recipe file (for the provenance)
	BakeryVersion   string            // bakery's own version (for the provenance)
	CacheState      string            // the bootstrap's stage cache state (hit, miss, off, unlocked); "" = not known
}

// Plan is the ordered list of stages of one build.
type Plan struct {
	Stages []Stage
}

// NewPlan turns a recipe and its resolved parameters into stages.
func NewPlan(p Params) Plan {
	r, id := p.Recipe, p.Identity
	has := map[string]bool{}
	for _, o := range r.Outputs {
		has[o] = true
	}
	mirror, security := lockedSources(p)
	stages := inputStages(p)
	stages = append(stages,
		bootstrapStage(p, mirror, security),
		Configure{Identity: id, Hostname: r.Hostname},
	)
	stages = append(stages, elementStages(p)...)
	stages = append(stages, configStages(p)...)
	stages = append(stages,
		Hygiene{},
		Disk{Size: int64(r.DiskSize), Seed: id.BuildID, SourceDateEpoch: p.SourceDateEpoch,
			Filename: id.Name + ".raw", KeepRaw: has["raw"]},
	)
	if has["rootfs-tar"] {
		stages = append(stages, RootfsTar{SourceDateEpoch: p.SourceDateEpoch, Filename: id.Name + ".rootfs.tar.zst"})
	}
	if has["qcow2"] {
		stages = append(stages, QCOW2{Compression: r.QCOW2Compression, Filename: id.Name + ".qcow2"})
	}
	if len(r.Tests) > 0 {
		stages = append(stages, RecipeTests{Names: r.Tests, Paths: r.TestPaths(p.RecipeDir)})
	}
	stages = append(stages, lockStages(p)...) // before the manifest, which lists it
	stages = append(stages, Manifest{
		Identity: id, RecipeDigest: r.Digest(), Recipe: r.Canonical(), Tools: p.Tools,
		Created: p.Created, Started: p.Started,
		ManifestFile: id.Name + ".manifest.json", SBOMFile: id.Name + ".sbom.spdx.json",
	}, provenanceStage(p))
	return Plan{Stages: stages}
}

// bootstrapStage is the plan's bootstrap, with its stage cache key (locked
// builds) and the cache state Prepare found.
func bootstrapStage(p Params, mirror, security string) Bootstrap {
	r := p.Recipe
	b := Bootstrap{
		Release: r.Release, Arch: r.Arch, Mirror: mirror, SecurityMirror: security,
		Packages: bootstrapPackages(p), SourceDateEpoch: p.SourceDateEpoch,
		FromArchive: p.Lock != nil, KeyDir: p.KeyDir, CacheState: p.CacheState,
	}
	b.CacheKey = BootstrapKey(b, p.Lock, p.Tools)
	if b.CacheKey == "" {
		b.CacheState = CacheUnlocked
	}
	return b
}

// bootstrapPackages are the kernel, the base set, the recipe's packages and
// those its elements and config tree need.
func bootstrapPackages(p Params) []string {
	r := p.Recipe
	pkgs := append(append([]string{r.Kernel}, BasePackages...), r.Packages...)
	pkgs = append(pkgs, element.PackageNames(p.Elements)...)
	return append(pkgs, configPackages(r.Config)...)
}

// Names lists the stage names in order.
func (p Plan) Names() []string {
	names := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		names[i] = s.Name()
	}
	return names
}

// MarshalJSON renders the plan as data: each stage's name and parameters.
func (p Plan) MarshalJSON() ([]byte, error) {
	type doc struct {
		Name   string         `json:"name"`
		Params map[string]any `json:"params,omitempty"`
	}
	docs := make([]doc, len(p.Stages))
	for i, s := range p.Stages {
		docs[i].Name = s.Name()
		if d, ok := s.(Describer); ok {
			docs[i].Params = d.Describe()
		}
	}
	return json.Marshal(map[string]any{"stages": docs})
}
