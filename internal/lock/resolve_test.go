package lock

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/apt"
)

func TestParseSimulation(t *testing.T) {
	out := `NOTE: This is only a simulation!
Reading package lists...
Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])
Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64]) []
Inst tzdata [2025a-0] (2025b-0+deb12u1 Debian:12-updates/oldstable-updates [all])
Inst libcap2 (1:2.66-4+deb12u3+b1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Conf libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])
`
	got, err := parseSimulation(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []installed{{"gcc-12-base", "12.2.0-14+deb12u1", "amd64"}, {"libc6", "2.36-9+deb12u14", "amd64"},
		{"tzdata", "2025b-0+deb12u1", "all"}, {"libcap2", "1:2.66-4+deb12u3+b1", "amd64"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if _, err := parseSimulation("Inst broken\n"); err == nil {
		t.Error("malformed Inst line accepted")
	}
}

func TestListFileName(t *testing.T) {
	for in, want := range map[string]string{
		"http://deb.debian.org/debian/dists/bookworm/InRelease":                       "deb.debian.org_debian_dists_bookworm_InRelease",
		"http://deb.debian.org/debian-security/dists/bookworm-security/InRelease":     "deb.debian.org_debian-security_dists_bookworm-security_InRelease",
		"http://user:pw@127.0.0.1:9/debian/dists/bookworm/main/binary-amd64/Packages": "127.0.0.1:9_debian_dists_bookworm_main_binary-amd64_Packages",
		"file:/srv/my_mirror/dists/x/InRelease":                                       "_srv_my%5fmirror_dists_x_InRelease",
		"https://m/~u/d/dists/x/InRelease":                                            "m_%7eu_d_dists_x_InRelease",
	} {
		if got := ListFileName(in); got != want {
			t.Errorf("ListFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAptFiles(t *testing.T) {
	suites := suitesFor(Options{Inputs: Inputs{Release: "bookworm"}, Mirror: "http://m/debian/", SecurityMirror: "http://s/debian-security"})
	got := SourcesList(suites, []string{"main"}, "/k.gpg")
	want := `deb [signed-by=/k.gpg] http://m/debian bookworm main
deb [signed-by=/k.gpg] http://m/debian bookworm-updates main
deb [signed-by=/k.gpg] http://s/debian-security bookworm-security main
`
	if got != want {
		t.Errorf("sources\n%s\nwant\n%s", got, want)
	}
	if c := AptConfig("/r", "amd64"); !strings.Contains(c, "Dir \"/r/\";\n") || !strings.Contains(c, `APT::Architectures { "amd64"; };`) {
		t.Errorf("config %s", c)
	}
	if got := strings.Join(AptGetArgs("--simulate", "dist-upgrade"), " "); got != "apt-get --quiet --yes --simulate dist-upgrade" {
		t.Errorf("argv %s", got)
	}
}

func TestWriteStatus(t *testing.T) {
	dir := t.TempDir()
	a := aptRoot{Dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "var/lib/dpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open("../apt/testdata/repo/Packages")
	defer f.Close()
	pkgs, err := apt.ParsePackages(f)
	if err != nil {
		t.Fatal(err)
	}
	var stanzas []apt.Paragraph
	for _, p := range pkgs {
		stanzas = append(stanzas, p.Paragraph)
	}
	if err := a.writeStatus(stanzas); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(a.statusFile())
	back, err := apt.ParseParagraphs(strings.NewReader(string(data)))
	if err != nil || len(back) != len(pkgs) {
		t.Fatalf("%d stanzas, %v", len(back), err)
	}
	for _, p := range back {
		if s, _ := p.Value("Status"); s != "install ok installed" {
			t.Errorf("status %q", s)
		}
		if _, ok := p.Value("Filename"); ok {
			t.Error("Filename kept")
		}
	}
}
