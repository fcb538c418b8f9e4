package build

import (
	"context"
	"errors"
	"fmt"

	"github.com/bakery-dev/bakery/internal/disk"
)

// QCOW2 converts the raw disk to a compressed qcow2.
type QCOW2 struct {
	Compression string // zlib or zstd
	Filename    string
}

func (QCOW2) Name() string { return "qcow2" }

func (s QCOW2) Describe() map[string]any {
	return map[string]any{"compression": s.Compression, "filename": s.Filename,
		"writer": disk.QCOW2Writer(disk.QCOW2Options{Compression: s.Compression})}
}

func (s QCOW2) Run(ctx context.Context, ws *Workspace) error {
	if ws.RawDisk == "" {
		return errors.New("converting to qcow2: no raw disk in the workspace")
	}
	out := ws.Path(s.Filename)
	if err := disk.ConvertQCOW2(ctx, ws.Runner, ws.RawDisk, out, disk.QCOW2Options{Compression: s.Compression}); err != nil {
		return fmt.Errorf("converting to qcow2: %w", err)
	}
	ws.AddOutput("qcow2", s.Filename, out)
	return nil
}
