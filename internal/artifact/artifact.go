// Package artifact defines the content-addressed blob store that holds every
// artifact bakery produces (disk images, root filesystem tarballs, manifests,
// SBOMs). Blobs are named by their digest, "sha256:<64 lowercase hex>", and a
// store never holds a blob whose content does not hash to its name.
//
// The Store interface is deliberately small. Optional abilities are separate
// interfaces found by type assertion: Adopter (move a large local file in
// without copying it) and Locator (a local path, for tools such as qemu that
// need a file name).
package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

var (
	// ErrNotFound is returned when the store has no blob with the digest.
	ErrNotFound = errors.New("artifact not found")
	// ErrDigestMismatch is returned when content does not hash to the digest
	// it was stored under; nothing is stored in that case.
	ErrDigestMismatch = errors.New("artifact digest mismatch")
	// ErrInvalidDigest is returned for a digest that is not
	// "sha256:" followed by 64 lowercase hexadecimal digits.
	ErrInvalidDigest = errors.New("invalid artifact digest")
)

// Algorithm is the only digest algorithm bakery uses.
const Algorithm = "sha256"

const prefix = Algorithm + ":"

// Store is a content-addressed blob store.
//
// Error contract: every method returns an error wrapping ErrInvalidDigest for
// a malformed digest. Put returns ErrDigestMismatch, and stores nothing, when
// the content does not hash to digest; Put of a digest already present
// succeeds without reading r. Open and Stat return ErrNotFound for a digest
// that is not stored. Implementations are safe for concurrent use, including
// concurrent Puts of the same blob.
type Store interface {
	// Put stores the content of r under digest ("sha256:<hex>").
	Put(ctx context.Context, digest string, r io.Reader) error
	// Open returns the blob's content.
	Open(ctx context.Context, digest string) (io.ReadCloser, error)
	// Stat returns the blob's size in bytes.
	Stat(ctx context.Context, digest string) (int64, error)
}

// Adopter is implemented by stores that can take over a local file without
// copying it. Adopt re-hashes the file at path, then moves it into the store
// (by rename when on the same filesystem, by copy otherwise) and removes it
// from path. It returns ErrDigestMismatch, leaving the file where it was and
// storing nothing, when the file does not hash to digest. If the blob is
// already stored, the file is removed. The caller must not modify the file
// while Adopt runs.
type Adopter interface {
	Adopt(ctx context.Context, digest, path string) error
}

// Locator is implemented by stores that keep blobs as local files. Path
// returns the file holding the blob, or ErrNotFound. The file must be treated
// as read-only.
type Locator interface {
	Path(digest string) (string, error)
}

// ValidateDigest checks that d is "sha256:" followed by 64 lowercase hex
// digits and returns an error wrapping ErrInvalidDigest otherwise.
func ValidateDigest(d string) error {
	hexPart, ok := strings.CutPrefix(d, prefix)
	if !ok {
		return fmt.Errorf("%w %q: want %q followed by 64 lowercase hex digits", ErrInvalidDigest, d, prefix)
	}
	if len(hexPart) != 2*sha256.Size {
		return fmt.Errorf("%w %q: want 64 hex digits, got %d characters", ErrInvalidDigest, d, len(hexPart))
	}
	for i := 0; i < len(hexPart); i++ {
		if c := hexPart[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w %q: character %q is not a lowercase hex digit", ErrInvalidDigest, d, c)
		}
	}
	return nil
}

// Hex returns the hexadecimal part of a valid digest.
func Hex(d string) (string, error) {
	if err := ValidateDigest(d); err != nil {
		return "", err
	}
	return d[len(prefix):], nil
}

// Digest reads r to the end and returns its digest and size.
func Digest(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, fmt.Errorf("hashing content: %w", err)
	}
	return FormatDigest(h), n, nil
}

// DigestFile returns the digest and size of the file at path.
func DigestFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	defer f.Close()
	r, err := NewSparseReader(f)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	d, n, err := Digest(r)
	if err != nil {
		return "", n, fmt.Errorf("hashing %s: %w", path, err)
	}
	return d, n, nil
}

// FormatDigest formats the sum of a sha256 hash as a digest.
func FormatDigest(h hash.Hash) string {
	return prefix + hex.EncodeToString(h.Sum(nil))
}

// Mismatch returns an error wrapping ErrDigestMismatch that names both
// digests.
func Mismatch(want, got string) error {
	return fmt.Errorf("%w: want %s, content hashes to %s", ErrDigestMismatch, want, got)
}
