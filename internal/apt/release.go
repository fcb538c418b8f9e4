package apt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

// DebianKeyring is the keyring that signs the Debian archives.
const DebianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// ErrBadSignature is returned when an InRelease file's signature does not
// verify against the keyring.
var ErrBadSignature = errors.New("bad or missing repository signature")

// Release is a repository suite's Release (or verified InRelease) file.
type Release struct {
	Origin        string
	Label         string
	Suite         string
	Codename      string
	Version       string
	Date          time.Time
	ValidUntil    time.Time // zero when absent
	Architectures []string
	Components    []string
	SHA256        []IndexFile // the index files of the suite and their digests
}

// IndexFile is one entry of a Release file's checksum list.
type IndexFile struct {
	Path   string // relative to the suite directory, e.g. main/binary-amd64/Packages.xz
	Size   int64
	SHA256 string // hex
}

// File returns the checksum entry for path.
func (r *Release) File(path string) (IndexFile, bool) {
	for _, f := range r.SHA256 {
		if f.Path == path {
			return f, true
		}
	}
	return IndexFile{}, false
}

// ParseRelease parses the body of a Release file (for an InRelease file,
// the signed text: see VerifyInRelease).
func ParseRelease(data []byte) (*Release, error) {
	paras, err := ParseParagraphs(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing Release: %w", err)
	}
	if len(paras) != 1 {
		return nil, fmt.Errorf("parsing Release: %w", &SyntaxError{Line: 1, Msg: fmt.Sprintf("want one paragraph, got %d", len(paras))})
	}
	return releaseFrom(paras[0])
}

func releaseFrom(p Paragraph) (*Release, error) {
	get := func(name string) string { v, _ := p.Value(name); return v }
	r := &Release{
		Origin: get("Origin"), Label: get("Label"), Suite: get("Suite"), Codename: get("Codename"),
		Version: get("Version"), Architectures: strings.Fields(get("Architectures")),
		Components: strings.Fields(get("Components")),
	}
	if r.Suite == "" && r.Codename == "" {
		return nil, fmt.Errorf("parsing Release: %w", &SyntaxError{Line: p.Line, Msg: "neither Suite nor Codename"})
	}
	var err error
	if r.Date, err = parseReleaseDate(get("Date")); err != nil {
		return nil, fmt.Errorf("parsing Release Date: %w", err)
	}
	if v := get("Valid-Until"); v != "" {
		if r.ValidUntil, err = parseReleaseDate(v); err != nil {
			return nil, fmt.Errorf("parsing Release Valid-Until: %w", err)
		}
	}
	if r.SHA256, err = parseChecksums(get("SHA256")); err != nil {
		return nil, fmt.Errorf("parsing Release SHA256: %w", err)
	}
	return r, nil
}

// parseReleaseDate reads the RFC 2822 dates of Release files
// ("Sat, 11 Jul 2026 10:16:37 UTC"; apt also accepts numeric zones).
func parseReleaseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: bad date %q", ErrSyntax, s)
}

func parseChecksums(v string) ([]IndexFile, error) {
	var out []IndexFile
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 || !isHex(f[0], 64) {
			return nil, fmt.Errorf("%w: bad checksum line %q", ErrSyntax, truncate(line, 80))
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: bad size in %q", ErrSyntax, truncate(line, 80))
		}
		out = append(out, IndexFile{Path: f[2], Size: n, SHA256: f[0]})
	}
	return out, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// VerifyInRelease checks an InRelease file's OpenPGP signature with gpgv
// against keyring and returns the signed text (what gpgv verified, not what
// the file claims). It returns an error wrapping ErrBadSignature when the
// signature does not verify.
func VerifyInRelease(ctx context.Context, r runner.Runner, keyring, inRelease string) ([]byte, error) {
	out, err := r.Run(ctx, runner.Cmd{Args: GpgvArgs(keyring, inRelease)})
	if err != nil {
		return nil, fmt.Errorf("verifying %s with %s: %w: %w", inRelease, keyring, ErrBadSignature, err)
	}
	return out, nil
}

// GpgvArgs is the gpgv command line that verifies a clearsigned file and
// writes the signed text to standard output.
func GpgvArgs(keyring, file string) []string {
	return []string{"gpgv", "--quiet", "--keyring", keyring, "--output", "-", file}
}
