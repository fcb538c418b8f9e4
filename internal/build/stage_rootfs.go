package build

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bakery-dev/bakery/internal/runner"
)

// RootfsTar writes the root tree as a zstd-compressed tarball with sorted
// names, numeric owners and clamped times, so equal trees give equal files.
type RootfsTar struct {
	SourceDateEpoch int64
	Filename        string // NAME.rootfs.tar.zst
}

func (RootfsTar) Name() string { return "rootfs-tar" }

func (s RootfsTar) Describe() map[string]any {
	return map[string]any{"argv": s.Args("TREE", s.Filename)}
}

// Args is the tar command line.
func (s RootfsTar) Args(tree, out string) []string {
	return []string{
		"tar", "--create", "--file", out, "--directory", tree,
		"--sort=name", "--numeric-owner", "--xattrs", "--xattrs-include=*",
		// pax headers would otherwise record each file's atime and ctime
		"--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
		"--mtime=@" + strconv.FormatInt(s.SourceDateEpoch, 10), "--clamp-mtime",
		"--one-file-system", "--use-compress-program=zstd -T0 -3", ".",
	}
}

func (s RootfsTar) Run(ctx context.Context, ws *Workspace) error {
	out := ws.Path(s.Filename)
	if _, err := ws.Runner.Run(ctx, runner.Cmd{Args: s.Args(ws.Tree, out)}); err != nil {
		return fmt.Errorf("writing rootfs tarball: %w", err)
	}
	ws.AddOutput("rootfs-tar", s.Filename, out)
	return nil
}
