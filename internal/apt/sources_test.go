package apt

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const debianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

func TestParseSources(t *testing.T) {
	tests := []struct {
		dir  string
		want []Source
	}{
		{"oneline", []Source{
			{URI: "http://ftp.fr.debian.org/debian/", Suite: "bookworm", Components: []string{"main", "non-free-firmware"}},
			{URI: "http://security.debian.org/debian-security", Suite: "bookworm-security", Components: []string{"main", "non-free-firmware"}},
			{URI: "http://ftp.fr.debian.org/debian/", Suite: "bookworm-updates", Components: []string{"main", "non-free-firmware"}, SignedBy: debianKeyring},
		}},
		{"deb822", []Source{
			{URI: "http://deb.debian.org/debian", Suite: "bookworm", Components: []string{"main"}, SignedBy: debianKeyring},
			{URI: "http://deb.debian.org/debian", Suite: "bookworm-updates", Components: []string{"main"}, SignedBy: debianKeyring},
			{URI: "http://deb.debian.org/debian-security", Suite: "bookworm-security", Components: []string{"main"}, SignedBy: debianKeyring},
		}},
		{"mixed", []Source{
			{URI: "https://packages.cloud.google.com/apt", Suite: "cloud-sdk-bookworm", Components: []string{"main"}, SignedBy: "/usr/share/keyrings/cloud.google.gpg"},
			{URI: "https://download.docker.com/linux/debian", Suite: "bookworm", Components: []string{"stable"}, SignedBy: "/etc/apt/keyrings/docker.asc"},
			{URI: "https://apt.postgresql.org/pub/repos/apt", Suite: "bookworm-pgdg", Components: []string{"main"}, SignedBy: "/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc"},
			{URI: "mirror+file:///etc/apt/mirrors/debian.list", Suite: "bookworm", Components: []string{"main"}},
			{URI: "mirror+file:///etc/apt/mirrors/debian.list", Suite: "bookworm-updates", Components: []string{"main"}},
			{URI: "mirror+file:///etc/apt/mirrors/debian.list", Suite: "bookworm-backports", Components: []string{"main"}},
			{URI: "http://mirror.example.org/debian/", Suite: "bookworm-updates", Components: []string{"main", "contrib"}, SignedBy: inlineKey},
			{URI: "http://mirror.example.org/debian/", Suite: "bookworm", Components: []string{"main", "contrib"}, SignedBy: inlineKey},
			{URI: "http://mirror.example.org/security/", Suite: "bookworm-security", Components: []string{"main"}},
			{URI: "file:/srv/local-repo", Suite: "./"},
		}},
		{"thirdparty", []Source{
			{URI: "https://packages.cloud.google.com/apt", Suite: "cloud-sdk-bookworm", Components: []string{"main"}, SignedBy: "/usr/share/keyrings/cloud.google.gpg"},
		}},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got, err := ParseSources(filepath.Join("testdata", tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

const inlineKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n.\nmQINBGPL0BUBEADmW5NlOVk7OQKoO5ODq2Q7WXAnHJ2Gv6Dx\n-----END PGP PUBLIC KEY BLOCK-----"

func TestParseSourcesErrors(t *testing.T) {
	tests := []struct {
		dir      string
		wantIs   error
		wantText string
	}{
		{"bad-oneline", errUnclosedOptions, "sources.list: line 3: unclosed [options]"},
		{"bad-deb822", errMissingField, "debian.sources: stanza at line 6: missing field URIs"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := ParseSources(filepath.Join("testdata", tt.dir))
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %v, want %v containing %q", err, tt.wantIs, tt.wantText)
			}
		})
	}
}

func TestHostMirrorsFromFixtures(t *testing.T) {
	tests := []struct {
		dir, release, mirror, security string
	}{
		{"oneline", "bookworm", "http://ftp.fr.debian.org/debian", "http://security.debian.org/debian-security"},
		{"deb822", "bookworm", "http://deb.debian.org/debian", "http://deb.debian.org/debian-security"},
		{"mixed", "bookworm", "http://mirror.example.org/debian", "http://mirror.example.org/security"},
		{"thirdparty", "bookworm", DefaultMirror, DefaultSecurity},
		{"empty", "bookworm", DefaultMirror, DefaultSecurity},
		{"oneline", "trixie", DefaultMirror, DefaultSecurity},
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.release, func(t *testing.T) {
			srcs, err := ParseSources(filepath.Join("testdata", tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			mirror, security, err := HostMirrors(srcs, tt.release)
			if err != nil || mirror != tt.mirror || security != tt.security {
				t.Errorf("HostMirrors = %q, %q, %v; want %q, %q", mirror, security, err, tt.mirror, tt.security)
			}
		})
	}
}

func TestHostMirrorsRules(t *testing.T) {
	main := []string{"main"}
	tests := []struct {
		name             string
		sources          []Source
		mirror, security string
	}{
		{"exact suite preferred over updates", []Source{
			{URI: "http://a.example/debian/", Suite: "bookworm-updates", Components: main},
			{URI: "http://b.example/debian/", Suite: "bookworm", Components: main},
		}, "http://b.example/debian", DefaultSecurity},
		{"updates only", []Source{
			{URI: "http://a.example/debian/", Suite: "bookworm-updates", Components: main},
		}, "http://a.example/debian", DefaultSecurity},
		{"security archive never the mirror", []Source{
			{URI: "http://security.debian.org/", Suite: "bookworm", Components: main},
			{URI: "https://deb.debian.org/debian-security/", Suite: "bookworm", Components: main},
		}, DefaultMirror, DefaultSecurity},
		{"old security suite name", []Source{
			{URI: "http://security.debian.org", Suite: "bookworm/updates", Components: main},
		}, DefaultMirror, "http://security.debian.org"},
		{"security found by suite on any host", []Source{
			{URI: "https://mirror.internal/sec", Suite: "bookworm-security", Components: main},
		}, DefaultMirror, "https://mirror.internal/sec"},
		{"look-alike suites ignored", []Source{
			{URI: "https://packages.cloud.google.com/apt", Suite: "cloud-sdk-bookworm", Components: main},
			{URI: "https://apt.postgresql.org/pub/repos/apt", Suite: "bookworm-pgdg", Components: main},
			{URI: "https://download.docker.com/linux/debian", Suite: "bookworm", Components: []string{"stable"}},
		}, DefaultMirror, DefaultSecurity},
		{"unusable transports skipped", []Source{
			{URI: "mirror+file:///etc/apt/mirrors/debian.list", Suite: "bookworm", Components: main},
			{URI: "cdrom:[Debian GNU/Linux 12]/", Suite: "bookworm", Components: main},
			{URI: "tor+http://2s4yqjx5ul6okpp3f2gaunr2syex5jgbfpfvhxxbbjwnrsvbk5v3qbid.onion/debian", Suite: "bookworm", Components: main},
			{URI: "file:/srv/mirror", Suite: "bookworm", Components: main},
		}, "file:/srv/mirror", DefaultSecurity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mirror, security, err := HostMirrors(tt.sources, "bookworm")
			if err != nil || mirror != tt.mirror || security != tt.security {
				t.Errorf("HostMirrors = %q, %q, %v; want %q, %q", mirror, security, err, tt.mirror, tt.security)
			}
		})
	}
}

func TestHostMirrorsNeedsRelease(t *testing.T) {
	if _, _, err := HostMirrors(nil, " "); !errors.Is(err, ErrNoRelease) {
		t.Fatalf("err = %v, want ErrNoRelease", err)
	}
}

// TestParseSourcesHost reads this machine's own APT configuration, the
// real-world case the fixtures imitate.
func TestParseSourcesHost(t *testing.T) {
	if _, err := os.Stat("/etc/apt"); err != nil {
		t.Skip("no /etc/apt on this host")
	}
	srcs, err := ParseSources("/etc/apt")
	if err != nil {
		t.Fatalf("parsing the host's sources: %v", err)
	}
	if _, _, err := HostMirrors(srcs, "bookworm"); err != nil {
		t.Fatal(err)
	}
}

func TestParseSourceLine(t *testing.T) {
	tests := []struct {
		line    string
		want    Source
		ok      bool
		wantErr error
	}{
		{"", Source{}, false, nil},
		{"   # deb http://x/ y main", Source{}, false, nil},
		{"deb http://deb.debian.org/debian bookworm main contrib",
			Source{URI: "http://deb.debian.org/debian", Suite: "bookworm", Components: []string{"main", "contrib"}}, true, nil},
		{"\tdeb\thttp://deb.debian.org/debian\tbookworm\tmain  # comment",
			Source{URI: "http://deb.debian.org/debian", Suite: "bookworm", Components: []string{"main"}}, true, nil},
		{"deb [ arch=amd64,arm64 signed-by=/k.gpg ] http://d/debian bookworm main",
			Source{URI: "http://d/debian", Suite: "bookworm", Components: []string{"main"}, SignedBy: "/k.gpg"}, true, nil},
		{"deb [Signed-By=/k.gpg] http://d/debian bookworm main",
			Source{URI: "http://d/debian", Suite: "bookworm", Components: []string{"main"}, SignedBy: "/k.gpg"}, true, nil},
		{"deb cdrom:[Debian GNU/Linux 12.0.0 _Bookworm_]/ bookworm main",
			Source{URI: "cdrom:[Debian GNU/Linux 12.0.0 _Bookworm_]/", Suite: "bookworm", Components: []string{"main"}}, true, nil},
		{"deb file:/srv/repo ./", Source{URI: "file:/srv/repo", Suite: "./"}, true, nil},
		{"deb-src http://d/debian bookworm main", Source{}, false, nil},
		{"rpm http://d/ x y", Source{}, false, errUnknownType},
		{"deb http://d/debian", Source{}, false, errMissingSuite},
		{"deb http://d/debian bookworm", Source{}, false, errComponents},
		{"deb file:/srv/repo ./ main", Source{}, false, errComponents},
		{"deb [trusted=yes http://d/debian bookworm main", Source{}, false, errUnclosedOptions},
	}
	for _, tt := range tests {
		got, ok, err := ParseSourceLine(tt.line)
		if !errors.Is(err, tt.wantErr) || ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSourceLine(%q) = %#v, %v, %v; want %#v, %v, %v", tt.line, got, ok, err, tt.want, tt.ok, tt.wantErr)
		}
	}
}

func FuzzParseSourceLine(f *testing.F) {
	for _, s := range []string{
		"deb http://deb.debian.org/debian bookworm main",
		"deb [arch=amd64 signed-by=/k.gpg] https://d/x bookworm-security main contrib # c",
		"deb cdrom:[Debian GNU/Linux 12]/ bookworm main",
		"deb file:/srv ./", "deb-src x y z", "deb [", "deb ]", "#", "deb\t[\t]\tx\ty/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		src, ok, err := ParseSourceLine(line)
		if err != nil && ok {
			t.Fatalf("ok with error %v", err)
		}
		if !ok {
			return
		}
		if src.URI == "" || src.Suite == "" || strings.ContainsAny(src.Suite, " \t#") {
			t.Fatalf("bad source %#v from %q", src, line)
		}
		for _, c := range src.Components {
			if c == "" || strings.ContainsAny(c, "#") {
				t.Fatalf("bad component %q from %q", c, line)
			}
		}
		if strings.HasSuffix(src.Suite, "/") != (len(src.Components) == 0) {
			t.Fatalf("suite %q with components %q", src.Suite, src.Components)
		}
	})
}
