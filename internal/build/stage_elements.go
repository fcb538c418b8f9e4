package build

import (
	"context"
	"fmt"

	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/element"
)

// Elements runs the phases of the recipe's diskimage-builder elements
// (dependencies first). Their packages were installed by the bootstrap.
type Elements struct {
	Elements  []element.Element
	Release   string
	Distro    string
	Arch      string
	ImageName string
	Path      []string // the element path, for ELEMENTS_PATH
}

func (Elements) Name() string { return "elements" }

func (s Elements) Describe() map[string]any {
	return map[string]any{"elements": element.Lock(s.Elements), "phases": phaseNames()}
}

func phaseNames() []string {
	var out []string
	for _, p := range element.Phases {
		out = append(out, p.Dir)
	}
	return out
}

func (s Elements) Run(ctx context.Context, ws *Workspace) error {
	out := progressWriter(ws.Progress, s.Name())
	defer out.Close()
	o := element.Options{
		Tree: ws.Tree, WorkDir: ws.Path("elements"), Runner: ws.Runner, Logger: ws.Logger, Output: out,
		InTarget: func(fn func() error) error { return configtree.WithProc(ctx, ws.Runner, ws.Tree, fn) },
		Release:  s.Release, Distro: s.Distro, Arch: s.Arch, ImageName: s.ImageName, ElementsPath: s.Path,
	}
	if err := element.Run(ctx, o, s.Elements); err != nil {
		return fmt.Errorf("running elements: %w", err)
	}
	return nil
}

// elementStages runs the elements, if the recipe has any.
func elementStages(p Params) []Stage {
	if len(p.Elements) == 0 {
		return nil
	}
	r := p.Recipe
	return []Stage{Elements{Elements: p.Elements, Release: r.Release, Distro: r.Distro, Arch: r.Arch,
		ImageName: p.Identity.Name, Path: p.ElementsPath}}
}

// resolveElements finds the recipe's elements and their dependencies on
// the element path, in build order, each with its content hash.
func resolveElements(o Options) ([]element.Element, []string, error) {
	if len(o.Recipe.Elements) == 0 {
		return nil, nil, nil
	}
	path := element.DefaultPath(o.ElementsPath, o.RecipeDir)
	elems, err := element.Resolve(path, o.Recipe.Elements)
	if err != nil {
		return nil, nil, fmt.Errorf("resolving elements: %w", err)
	}
	return elems, path, nil
}
