package lock

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakery-dev/bakery/internal/apt"
)

// aptRoot is a throwaway apt directory tree: its own configuration,
// sources, lists and an empty (or synthetic) dpkg status.
type aptRoot struct{ Dir string }

func (a aptRoot) configFile() string { return filepath.Join(a.Dir, "etc/apt/apt.conf") }
func (a aptRoot) statusFile() string { return filepath.Join(a.Dir, "var/lib/dpkg/status") }
func (a aptRoot) listsDir() string   { return filepath.Join(a.Dir, "var/lib/apt/lists") }

func (a aptRoot) setup(suites []Suite, components []string, arch, keyring string) error {
	for _, d := range []string{"etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d",
		"etc/apt/trusted.gpg.d", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg", "var/log/apt"} {
		if err := os.MkdirAll(filepath.Join(a.Dir, d), 0o755); err != nil {
			return fmt.Errorf("creating apt root: %w", err)
		}
	}
	// apt downloads as the unprivileged _apt user: lists must be reachable.
	if err := os.Chmod(a.Dir, 0o755); err != nil {
		return fmt.Errorf("creating apt root: %w", err)
	}
	files := map[string]string{
		a.configFile(): AptConfig(a.Dir, arch),
		filepath.Join(a.Dir, "etc/apt/sources.list"): SourcesList(suites, components, keyring),
		a.statusFile(): "",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return fmt.Errorf("creating apt root: %w", err)
		}
	}
	return nil
}

// AptConfig is the resolver's apt configuration: everything under root,
// one architecture, no translations, no recommends (as mmdebstrap).
func AptConfig(root, arch string) string {
	return fmt.Sprintf(`Dir "%s/";
Dir::State::status "%s/var/lib/dpkg/status";
APT::Architecture "%s";
APT::Architectures { "%s"; };
APT::Install-Recommends "false";
Acquire::Languages "none";
Acquire::Retries "3";
Acquire::GzipIndexes "false";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
`, root, root, arch, arch)
}

// SourcesList is the one-line sources of the suites, each signed by keyring.
func SourcesList(suites []Suite, components []string, keyring string) string {
	var b strings.Builder
	for _, s := range suites {
		fmt.Fprintf(&b, "deb [signed-by=%s] %s %s %s\n", keyring, s.URI, s.Name, strings.Join(components, " "))
	}
	return b.String()
}

// listFile is where apt keeps the downloaded file uri/path: apt's
// URItoFileName (scheme and credentials dropped, special characters
// %-quoted, slashes turned into underscores).
func (a aptRoot) listFile(uri, path string) string {
	return filepath.Join(a.listsDir(), ListFileName(strings.TrimRight(uri, "/")+"/"+path))
}

// ListFileName is apt's URItoFileName.
func ListFileName(uri string) string {
	if i := strings.Index(uri, "://"); i >= 0 {
		uri = uri[i+3:]
	} else if rest, ok := strings.CutPrefix(uri, "file:"); ok {
		uri = rest
	}
	if at := strings.IndexByte(uri, '@'); at >= 0 && at < strings.IndexByte(uri+"/", '/') {
		uri = uri[at+1:]
	}
	var b strings.Builder
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		switch {
		case c <= 0x20 || c >= 0x7f || strings.IndexByte("\\|{}[]<>\"^~_=!@#$%^&*", c) >= 0:
			fmt.Fprintf(&b, "%%%02x", c)
		case c == '/':
			b.WriteByte('_')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// writeStatus makes apt believe the given packages are installed, so the
// second resolution step starts from the essential set as mmdebstrap's does.
func (a aptRoot) writeStatus(stanzas []apt.Paragraph) error {
	var b strings.Builder
	skip := map[string]bool{"filename": true, "size": true, "md5sum": true, "sha256": true, "description-md5": true, "tag": true}
	for _, p := range stanzas {
		for i, f := range p.Fields {
			if skip[strings.ToLower(f.Name)] {
				continue
			}
			writeField(&b, f)
			if i == 0 {
				b.WriteString("Status: install ok installed\n")
			}
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(a.statusFile(), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing apt status: %w", err)
	}
	return nil
}

func writeField(b *strings.Builder, f apt.Field) {
	lines := strings.Split(f.Value, "\n")
	fmt.Fprintf(b, "%s: %s\n", f.Name, lines[0])
	for _, l := range lines[1:] {
		if l == "" {
			l = "."
		}
		fmt.Fprintf(b, " %s\n", l)
	}
}
