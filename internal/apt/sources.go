package apt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Source is one binary ("deb") repository suite from APT's configuration.
// A line or stanza naming several URIs or suites gives one Source each.
type Source struct {
	URI        string
	Suite      string
	Components []string
	SignedBy   string // keyring path(s), fingerprints or an inline key, as written
}

// Default Debian archives, used when the host names none for a release.
const (
	DefaultMirror   = "http://deb.debian.org/debian"
	DefaultSecurity = "http://deb.debian.org/debian-security"
)

// ErrNoRelease is returned by HostMirrors when no release is given.
var ErrNoRelease = errors.New("no release given")

// ParseSources reads APT's sources from an /etc/apt-like dir: sources.list,
// then sources.list.d/*.list and *.sources in name order, as APT does.
// Files with other names (.save, .disabled) are ignored, deb-src entries
// and stanzas with "Enabled: no" are skipped.
func ParseSources(dir string) ([]Source, error) {
	files, err := sourceFiles(dir)
	if err != nil {
		return nil, err
	}
	var all []Source
	for _, f := range files {
		srcs, err := parseSourceFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, srcs...)
	}
	return all, nil
}

func sourceFiles(dir string) ([]string, error) {
	files := []string{filepath.Join(dir, "sources.list")}
	entries, err := os.ReadDir(filepath.Join(dir, "sources.list.d"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing %s: %w", filepath.Join(dir, "sources.list.d"), err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources")) {
			files = append(files, filepath.Join(dir, "sources.list.d", n))
		}
	}
	return files, nil
}

func parseSourceFile(path string) ([]Source, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	var srcs []Source
	if strings.HasSuffix(path, ".sources") {
		srcs, err = parseDeb822Sources(f)
	} else {
		srcs, err = parseOneLineSources(f)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return srcs, nil
}

// HostMirrors picks, from the host's sources, the Debian mirror and the
// security archive for release (a codename such as "bookworm"). The mirror
// is the first http(s) or file source carrying the release itself (or else
// its -updates, -backports or -proposed-updates suite) with a "main"
// component and not on a security archive; the security archive is the first
// carrying <release>-security. Third-party repositories (suites such as
// "cloud-sdk-bookworm", or no main component) never match. Either falls
// back to deb.debian.org. URIs come back without a trailing slash.
func HostMirrors(sources []Source, release string) (mirror, security string, err error) {
	if strings.TrimSpace(release) == "" {
		return "", "", ErrNoRelease
	}
	mirror, security = DefaultMirror, DefaultSecurity
	if s, ok := findSource(sources, func(s Source) bool { return isSecuritySuite(s.Suite, release) }); ok {
		security = s
	}
	for _, suites := range [][]string{{release}, {release + "-updates", release + "-backports", release + "-proposed-updates"}} {
		if s, ok := findSource(sources, func(s Source) bool { return isMirror(s, suites) }); ok {
			return s, security, nil
		}
	}
	return mirror, security, nil
}

func findSource(sources []Source, match func(Source) bool) (string, bool) {
	for _, s := range sources {
		if usableURI(s.URI) && match(s) {
			return strings.TrimRight(s.URI, "/"), true
		}
	}
	return "", false
}

func isSecuritySuite(suite, release string) bool {
	return suite == release+"-security" || suite == release+"/updates"
}

func isMirror(s Source, suites []string) bool {
	return slices.Contains(suites, s.Suite) && slices.Contains(s.Components, "main") && !isSecurityArchive(s.URI)
}

// usableURI reports whether a build can fetch from the URI directly
// (mirror+file:, cdrom: and tor+ transports are not).
func usableURI(uri string) bool {
	for _, p := range []string{"http://", "https://", "file:"} {
		if strings.HasPrefix(uri, p) {
			return true
		}
	}
	return false
}

func isSecurityArchive(uri string) bool {
	return strings.Contains(uri, "://security.debian.org") || strings.Contains(uri, "debian-security")
}
