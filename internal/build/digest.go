package build

import (
	"fmt"

	"github.com/bakery-dev/bakery/internal/artifact"
)

// digested is a hashed output.
type digested struct {
	digest string
	size   int64
}

// Digest returns an output's digest and size, hashing the file only the
// first time: outputs are not changed once made, and a raw disk takes
// seconds to hash. Safe for concurrent use; different outputs are hashed
// concurrently.
func (ws *Workspace) Digest(o Output) (string, int64, error) {
	ws.digestMu.Lock()
	d, ok := ws.digests[o.Path]
	ws.digestMu.Unlock()
	if ok {
		return d.digest, d.size, nil
	}
	digest, size, err := artifact.DigestFile(o.Path)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", o.Filename, err)
	}
	ws.digestMu.Lock()
	defer ws.digestMu.Unlock()
	if ws.digests == nil {
		ws.digests = map[string]digested{}
	}
	ws.digests[o.Path] = digested{digest, size}
	return digest, size, nil
}
