package provenance

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/lock"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func hex(c string) string { return strings.Repeat(c, 64) }

func sampleLock() *lock.Lock {
	return &lock.Lock{
		Suites: []lock.Suite{
			{Name: "bookworm", URI: "http://deb.debian.org/debian", Codename: "bookworm", Date: "2026-11-14T09:12:00Z", InReleaseSHA256: hex("a")},
			{Name: "bookworm-security", URI: "http://security.debian.org/debian-security/", Codename: "bookworm-security", Date: "2026-11-20T18:00:00Z", InReleaseSHA256: hex("b")},
		},
		Packages: []lock.Package{
			{Name: "libc6", Version: "2.36-9+deb12u9", Architecture: "amd64", SHA256: hex("1"), Size: 2757056, Filename: "pool/main/g/glibc/libc6_2.36-9+deb12u9_amd64.deb", Suite: "bookworm"},
			{Name: "apt", Version: "2.6.2", Architecture: "amd64", SHA256: hex("2"), Size: 1373116, Filename: "pool/updates/main/a/apt/apt_2.6.2_amd64.deb", Suite: "bookworm-security"},
			{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Architecture: "amd64", SHA256: hex("3"), Size: 90000, Filename: "pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb", Suite: "bookworm"},
		},
		Tools: map[string]string{"mmdebstrap": "mmdebstrap 1.3.5"},
	}
}

func sampleBuild(locked bool) Build {
	start := time.Date(2026, 11, 21, 14, 5, 6, 0, time.FixedZone("CET", 3600))
	b := Build{
		BuildID: "sha256:" + hex("c"),
		Subjects: []File{
			{Name: "img.qcow2", SHA256: hex("d")},
			{Name: "img.manifest.json", SHA256: "sha256:" + hex("e")},
			{Name: "img.raw", SHA256: hex("f")},
		},
		RecipeDigest: "sha256:" + hex("9"), Recipe: json.RawMessage(`{"name":"debian-cloud","release":"bookworm"}`),
		RecipePath: "/srv/recipes/debian-cloud.yaml", RecipeDir: "/srv/recipes",
		Config: &configtree.Lock{Repo: "/srv/puppet-tree.git", Ref: "0.1.0", Commit: strings.Repeat("7", 40), Tag: "0.1.0",
			Modules: []configtree.LockedModule{
				{Name: "apache_backend", Source: "/srv/apache_backend.git", Ref: "v1.0.0", Commit: strings.Repeat("8", 40)},
				{Name: "site", Source: "site/site", SHA256: "sha256:" + hex("6")},
			}},
		Elements:     []element.Locked{{Name: "motd", Hash: "sha256:" + hex("5")}, {Name: "webtools", Hash: "sha256:" + hex("4")}},
		ElementsPath: []string{"/srv/recipes/elements"},
		Mirror:       "http://deb.debian.org/debian", SecurityMirror: "http://security.debian.org/debian-security",
		FormatSalt: "bakery-build-format-1", SourceDateEpoch: 1763111520, BakeryVersion: "0.4.0",
		Tools:   map[string]string{"mmdebstrap": "mmdebstrap 1.3.5", "qemu-img": "qemu-img version 7.2.13"},
		Started: start, Finished: start.Add(3*time.Minute + 12*time.Second),
	}
	if locked {
		b.Lock, b.LockFile = sampleLock(), "img.lock.json"
	} else {
		b.Packages = []Package{{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Arch: "amd64"}, {Name: "bash", Version: "5.2.15-2+b7", Arch: "amd64"}}
	}
	return b
}

// TestGolden renders a locked and an unlocked build's statement; refresh
// with: go test ./internal/provenance -run TestGolden -update
func TestGolden(t *testing.T) {
	for name, locked := range map[string]bool{"locked": true, "unlocked": false} {
		t.Run(name, func(t *testing.T) {
			s, err := New(sampleBuild(locked))
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.JSON()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("statement differs from %s (run with -update and review):\n%s", golden, got)
			}
			checkParsesBack(t, s, want)
		})
	}
}

// checkParsesBack reads the golden file as a consumer would: generic JSON
// with the fields in-toto and SLSA require, and Parse giving back the
// statement that was written.
func checkParsesBack(t *testing.T, s Statement, data []byte) {
	t.Helper()
	var generic struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate struct {
			BuildDefinition struct {
				BuildType            string                     `json:"buildType"`
				ExternalParameters   map[string]json.RawMessage `json:"externalParameters"`
				InternalParameters   map[string]json.RawMessage `json:"internalParameters"`
				ResolvedDependencies []map[string]any           `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
				Metadata map[string]string `json:"metadata"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	bd, rd := generic.Predicate.BuildDefinition, generic.Predicate.RunDetails
	if generic.Type != StatementType || generic.PredicateType != PredicateType || bd.BuildType != BuildType || rd.Builder.ID != BuilderID {
		t.Errorf("types: %q %q %q %q", generic.Type, generic.PredicateType, bd.BuildType, rd.Builder.ID)
	}
	if len(generic.Subject) != 3 || generic.Subject[0].Digest["sha256"] != hex("e") {
		t.Errorf("subjects (sorted by name, plain hex) = %+v", generic.Subject)
	}
	for _, k := range []string{"invocationId", "startedOn", "finishedOn"} {
		if rd.Metadata[k] == "" {
			t.Errorf("runDetails.metadata.%s missing", k)
		}
	}
	if bd.ExternalParameters["recipe"] == nil || bd.InternalParameters["formatSalt"] == nil || len(bd.ResolvedDependencies) == 0 {
		t.Errorf("build definition lacks recipe, salt or dependencies: %+v", bd)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.JSON()
	if string(again) != string(data) {
		t.Errorf("parse and encode again differs:\n%s", again)
	}
}

func TestDependencies(t *testing.T) {
	s, err := New(sampleBuild(true))
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]ResourceDescriptor{}
	for _, d := range s.Predicate.BuildDefinition.ResolvedDependencies {
		deps[d.Name] = d
	}
	want := map[string]ResourceDescriptor{
		"zlib1g_1%3a1.2.13.dfsg-1_amd64.deb": {URI: "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64", Digest: map[string]string{"sha256": hex("3")},
			DownloadLocation: "http://deb.debian.org/debian/pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb", Annotations: map[string]string{"suite": "bookworm"}},
		"InRelease bookworm-security": {URI: "http://security.debian.org/debian-security/dists/bookworm-security/InRelease", Digest: map[string]string{"sha256": hex("b")},
			Annotations: map[string]string{"codename": "bookworm-security", "date": "2026-11-20T18:00:00Z"}},
		"config tree":                  {URI: "git+/srv/puppet-tree.git", Digest: map[string]string{"gitCommit": strings.Repeat("7", 40)}, Annotations: map[string]string{"ref": "0.1.0", "tag": "0.1.0"}},
		"puppet module site":           {URI: "site/site", Digest: map[string]string{"sha256": hex("6")}},
		"puppet module apache_backend": {URI: "git+/srv/apache_backend.git", Digest: map[string]string{"gitCommit": strings.Repeat("8", 40)}, Annotations: map[string]string{"ref": "v1.0.0"}},
		"element webtools":             {URI: "bakery-element:webtools", Digest: map[string]string{"sha256": hex("4")}},
	}
	for name, w := range want {
		w.Name = name
		if got := deps[name]; !reflect.DeepEqual(got, w) {
			t.Errorf("dependency %s = %+v, want %+v", name, got, w)
		}
	}
	if n := len(deps); n != 3+2+3+2 {
		t.Errorf("%d dependencies, want 10 (3 packages, 2 suites, tree and 2 modules, 2 elements)", n)
	}
	if v := s.Predicate.RunDetails.Builder.Version; v["bakery"] != "0.4.0" || v["qemu-img"] == "" {
		t.Errorf("builder version %v", v)
	}
	if l := s.Predicate.BuildDefinition.ExternalParameters.Lock; l == nil || !strings.HasPrefix(l.Digest, "sha256:") || l.File != "img.lock.json" {
		t.Errorf("lock parameter %+v", l)
	}
}

func TestUnlockedPackagesHaveNoDigest(t *testing.T) {
	s, err := New(sampleBuild(false))
	if err != nil {
		t.Fatal(err)
	}
	d := s.Predicate.BuildDefinition.ResolvedDependencies[0]
	if d.URI != "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64" || d.Digest != nil {
		t.Errorf("first dependency %+v, want bash by package URL without digest", d)
	}
	if s.Predicate.BuildDefinition.ExternalParameters.Lock != nil {
		t.Error("unlocked build names a lock")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Statement)
		want   string
	}{
		{"type", func(s *Statement) { s.Type = "https://in-toto.io/Statement/v0.1" }, "_type"},
		{"predicate type", func(s *Statement) { s.PredicateType = "https://slsa.dev/provenance/v0.2" }, "predicateType"},
		{"no subject", func(s *Statement) { s.Subject = nil }, "no subject"},
		{"subject without sha256", func(s *Statement) { s.Subject[0].Digest = map[string]string{"sha512": hex("a")} }, "sha256"},
		{"no build type", func(s *Statement) { s.Predicate.BuildDefinition.BuildType = "" }, "buildType"},
		{"no recipe digest", func(s *Statement) { s.Predicate.BuildDefinition.ExternalParameters.Recipe.Digest = "" }, "recipe.digest"},
		{"no builder", func(s *Statement) { s.Predicate.RunDetails.Builder.ID = "" }, "builder.id"},
		{"no invocation", func(s *Statement) { s.Predicate.RunDetails.Metadata.InvocationID = "" }, "invocationId"},
		{"ends before it starts", func(s *Statement) {
			m := &s.Predicate.RunDetails.Metadata
			m.FinishedOn = m.StartedOn.Add(-time.Second)
		}, "finishedOn"},
		{"dependency without uri or digest", func(s *Statement) {
			s.Predicate.BuildDefinition.ResolvedDependencies[0] = ResourceDescriptor{Name: "x"}
		}, "neither uri nor digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(sampleBuild(true))
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(&s)
			data, err := s.JSON()
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"locked", "unlocked"} {
		if data, err := os.ReadFile(filepath.Join("testdata", name+".json")); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"_type":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		again, err := s.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(again); err != nil {
			t.Fatalf("a parsed statement does not parse again: %v", err)
		}
	})
}
