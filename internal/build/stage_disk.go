package build

import (
	"context"
	"fmt"

	"github.com/bakery-dev/bakery/internal/disk"
)

// Disk assembles the hybrid BIOS+UEFI GPT disk on a plain file.
type Disk struct {
	Size            int64
	Seed            string // build ID: every UUID and GUID derives from it
	SourceDateEpoch int64
	Filename        string // NAME.raw
	KeepRaw         bool   // the recipe asks for the raw output
}

func (Disk) Name() string { return "disk" }

func (s Disk) Describe() map[string]any {
	l, err := disk.PlanLayout(s.Size, s.Seed)
	if err != nil {
		return map[string]any{"size": s.Size, "error": err.Error()}
	}
	return map[string]any{"size": s.Size, "layout": l, "sfdisk": disk.SfdiskScript(l, "disk.raw")}
}

func (s Disk) Run(ctx context.Context, ws *Workspace) error {
	raw := ws.Path("disk.raw")
	l, err := disk.Build(ctx, ws.Runner, disk.Options{
		Tree: ws.Tree, Output: raw, Size: s.Size, Seed: s.Seed,
		SourceDateEpoch: s.SourceDateEpoch, WorkDir: ws.Path("disk"), Progress: ws.Progress,
	})
	if err != nil {
		return fmt.Errorf("assembling disk: %w", err)
	}
	ws.Layout = l
	ws.RawDisk = raw
	if s.KeepRaw {
		ws.AddOutput("raw", s.Filename, raw)
	}
	return nil
}
