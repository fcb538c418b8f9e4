package recipe

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func mustParse(t *testing.T, in string) *Recipe {
	t.Helper()
	r, err := Parse("r.yaml", []byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}

func mustLoad(t *testing.T, file string) *Recipe {
	t.Helper()
	r, err := Load(file)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return r
}

func TestParseDefaults(t *testing.T) {
	got := mustLoad(t, "testdata/minimal.yaml")
	want := &Recipe{
		Name: "debian-cloud", Distro: "debian", Release: "bookworm", Arch: "amd64",
		Kernel: "linux-image-cloud-amd64", Packages: []string{}, Outputs: []string{"qcow2"},
		QCOW2Compression: "zlib", DiskSize: 4 * GiB, Version: "0.1.0",
		NameTemplate: "{distro}-{release}.{arch}-{version}-{serial}", Hostname: "debian", Tests: []string{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(minimal) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseFull(t *testing.T) {
	got := mustLoad(t, "testdata/full.yaml")
	want := &Recipe{
		Name: "releng-buildmaster", Distro: "debian", Release: "trixie", Arch: "amd64",
		Mirror: "http://deb.debian.org/debian", SecurityMirror: "http://deb.debian.org/debian-security",
		Kernel: "linux-image-amd64", Packages: []string{"curl", "libstdc++6", "openssh-server", "vim"},
		Outputs: []string{"qcow2", "raw", "rootfs-tar"}, QCOW2Compression: "zstd", DiskSize: 3 * GiB,
		Version: "1.2.3+evacuation2", NameTemplate: "{product}-{release}-{version}-{serial}",
		Hostname: "buildmaster", Tests: []string{"tests/boot.sh", "/usr/lib/bakery/tests/ssh.sh"},
		Elements: []string{"motd", "webtools"},
		Config: &Config{Repo: "https://git.example.org/puppet.git", Ref: "0.1.0", Path: "/etc/puppet/code/environments/production",
			Apply:     &Apply{Class: "site::role::buildmaster", Params: map[string]any{"vhost": "bm.example.org", "port": 8080, "tls": true}},
			FirstBoot: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(full) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct{ name, in string }{
		{"numeric version", "name: a1\nversion: 1.10\n"},
		{"null fields take defaults", "name: a1\nversion: '1'\nrelease:\npackages:\noutputs:\ndisk_size:\n"},
		{"anchors and aliases", "name: a1\nversion: &v '2'\nhostname: h2\npackages: &p [vim]\n"},
		{"file mirror", "name: a1\nversion: '1'\nmirror: file:///srv/mirror/debian\n"},
		{"fractional size", "name: a1\nversion: '1'\ndisk_size: 1.5GiB\n"},
		{"explicit document markers", "---\nname: a1\nversion: '1'\n...\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustParse(t, tc.in)
			if err := r.Validate(); err != nil {
				t.Errorf("Validate after Parse: %v", err)
			}
		})
	}
}

func TestParseKeepsVersionText(t *testing.T) {
	if r := mustParse(t, "name: a1\nversion: 1.10\n"); r.Version != "1.10" {
		t.Errorf("Version = %q, want the text as written, 1.10", r.Version)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Recipe
		want string // "" for valid
	}{
		{"defaults suffice", Recipe{Name: "x1", Version: "1"}, ""},
		{"missing name", Recipe{Version: "1"}, `field "name": is required`},
		{"bad release", Recipe{Name: "x1", Version: "1", Release: "sid"}, `field "release": "sid" is not supported`},
		{"empty outputs", Recipe{Name: "x1", Version: "1", Outputs: []string{}}, `field "outputs": must list at least one output`},
		{"small disk", Recipe{Name: "x1", Version: "1", DiskSize: MiB}, `field "disk_size": 1MiB is too small`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCanonicalGolden(t *testing.T) {
	for _, name := range []string{"minimal", "full"} {
		t.Run(name, func(t *testing.T) {
			r := mustLoad(t, filepath.Join("testdata", name+".yaml"))
			golden(t, filepath.Join("testdata", name+".canonical.json"), r.Canonical())
			golden(t, filepath.Join("testdata", name+".effective.yaml"), r.YAML())
		})
	}
}

func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", file, got, want)
	}
}

func TestDigestStable(t *testing.T) {
	full := mustLoad(t, "testdata/full.yaml")
	reordered := mustLoad(t, "testdata/full-reordered.yaml")
	if full.Digest() != reordered.Digest() {
		t.Errorf("digest depends on key order or layout:\n%s\n%s", full.Canonical(), reordered.Canonical())
	}
	explicit := mustParse(t, "name: debian-cloud\nversion: 0.1.0\nrelease: bookworm\ndisk_size: 4096M\nhostname: debian\n")
	if minimal := mustLoad(t, "testdata/minimal.yaml"); minimal.Digest() != explicit.Digest() {
		t.Errorf("spelling out defaults changed the digest")
	}
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(full.Digest()) {
		t.Errorf("Digest() = %q, want sha256:<64 hex>", full.Digest())
	}
}

func TestDigestChangesWithEachField(t *testing.T) {
	base := mustLoad(t, "testdata/full.yaml")
	changes := map[string]func(r *Recipe){
		"name":              func(r *Recipe) { r.Name = "other" },
		"release":           func(r *Recipe) { r.Release = "bookworm" },
		"mirror":            func(r *Recipe) { r.Mirror = "http://mirror.example/debian" },
		"security_mirror":   func(r *Recipe) { r.SecurityMirror = "" },
		"kernel":            func(r *Recipe) { r.Kernel = "linux-image-rt-amd64" },
		"packages":          func(r *Recipe) { r.Packages = append(r.Packages, "htop") },
		"outputs":           func(r *Recipe) { r.Outputs = []string{"raw"} },
		"qcow2_compression": func(r *Recipe) { r.QCOW2Compression = "zlib" },
		"disk_size":         func(r *Recipe) { r.DiskSize += MiB },
		"version":           func(r *Recipe) { r.Version = "1.2.4" },
		"name_template":     func(r *Recipe) { r.NameTemplate = "{product}-{serial}" },
		"hostname":          func(r *Recipe) { r.Hostname = "other" },
		"tests":             func(r *Recipe) { r.Tests = r.Tests[:1] },
		"elements":          func(r *Recipe) { r.Elements = r.Elements[:1] },
		"config.ref":        func(r *Recipe) { c := *r.Config; c.Ref = "0.2.0"; r.Config = &c },
		"config.apply":      func(r *Recipe) { c := *r.Config; c.Apply = nil; r.Config = &c },
	}
	for field, change := range changes {
		r := *base
		change(&r)
		if r.Digest() == base.Digest() {
			t.Errorf("changing %s did not change the digest", field)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	for _, file := range []string{"testdata/minimal.yaml", "testdata/full.yaml"} {
		r := mustLoad(t, file)
		again, err := Parse("effective.yaml", r.YAML())
		if err != nil {
			t.Fatalf("%s: Parse(YAML()): %v\n%s", file, err, r.YAML())
		}
		if !bytes.Equal(again.Canonical(), r.Canonical()) {
			t.Errorf("%s: round trip changed the recipe:\n%s\n%s", file, r.Canonical(), again.Canonical())
		}
	}
}

func TestTestPaths(t *testing.T) {
	r := &Recipe{Tests: []string{"tests/boot.sh", "/opt/t/ssh.sh", "../shared/net.sh"}}
	got := r.TestPaths("/srv/recipes/cloud")
	want := []string{"/srv/recipes/cloud/tests/boot.sh", "/opt/t/ssh.sh", "/srv/recipes/shared/net.sh"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TestPaths = %q, want %q", got, want)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got := r.TestPaths("recipes")[0]; got != filepath.Join(wd, "recipes/tests/boot.sh") {
		t.Errorf("TestPaths with a relative dir = %q, want an absolute path", got)
	}
}

func TestYAMLRoundTripAwkwardStrings(t *testing.T) {
	awkward := []string{"# x", "- y", "a: b", "'q'", `"`, "*x", "&a", "!t", "%p", "@", "`", "|", ">", "? ",
		"-", "~", "null", "true", "0x1", "1e3", " lead", "trail ", "ü", "a\\b", "{x}", "[y]", "---", "..."}
	r := &Recipe{Name: "x1", Version: "1.0", Tests: awkward}
	again, err := Parse("effective.yaml", r.YAML())
	if err != nil {
		t.Fatalf("Parse(YAML()): %v\n%s", err, r.YAML())
	}
	if !reflect.DeepEqual(again.Tests, awkward) || again.Version != "1.0" {
		t.Errorf("round trip changed strings:\n%q\n%q", awkward, again.Tests)
	}
}

func TestFieldTableMatchesStruct(t *testing.T) {
	var tags []string
	typ := reflect.TypeFor[Recipe]()
	for i := range typ.NumField() {
		tags = append(tags, strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0])
		// Fields added after the first release may be omitempty in JSON, so
		// that recipes without them keep their digest.
		if json := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]; json != tags[i] {
			t.Errorf("field %s: json tag %q differs from yaml tag %q", typ.Field(i).Name, json, tags[i])
		}
	}
	if !reflect.DeepEqual(tags, fieldNames()) {
		t.Errorf("struct fields %q, decode table %q", tags, fieldNames())
	}
}
