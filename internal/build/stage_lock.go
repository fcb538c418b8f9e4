package build

import (
	"context"
	"fmt"
	"os"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/lock"
)

// LockFile keeps the canonical lock of a locked build with the image
// (NAME.lock.json): with the recorded recipe it is what `bakery verify`
// rebuilds the image from.
type LockFile struct {
	Lock     *lock.Lock
	Filename string // NAME.lock.json
}

func (LockFile) Name() string { return "lock" }

func (s LockFile) Describe() map[string]any {
	d, _ := s.Lock.Digest()
	return map[string]any{"lock": d, "file": s.Filename}
}

func (s LockFile) Run(_ context.Context, ws *Workspace) error {
	data, err := s.Lock.Encode()
	if err != nil {
		return err
	}
	path := ws.Path(s.Filename)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing lock %s: %w", s.Filename, err)
	}
	ws.AddOutput(catalog.KindLock, s.Filename, path)
	return nil
}

// lockStages keeps the lock with a locked build; none without a lock.
func lockStages(p Params) []Stage {
	if p.Lock == nil {
		return nil
	}
	return []Stage{LockFile{Lock: p.Lock, Filename: p.Identity.Name + ".lock.json"}}
}
