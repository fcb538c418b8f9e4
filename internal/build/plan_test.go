package build

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/recipe"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/plans")

// TestPlanGolden renders the plan of every recipe in testdata/recipes and
// compares it with testdata/plans, so any change to what a build does shows
// up in review. Refresh with: go test ./internal/build -run TestPlanGolden -update
func TestPlanGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/recipes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recipes: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			got := planJSON(t, f)
			golden := filepath.Join("testdata/plans", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("plan of %s differs from %s (run with -update and review):\n%s", f, golden, got)
			}
		})
	}
}

func planJSON(t *testing.T, file string) []byte {
	t.Helper()
	r, err := recipe.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 21, 14, 5, 0, 0, time.UTC)
	in := testInputs(t, r) // a fixed config tree and testdata/elements
	named, err := imageVersion(r, in.Config)
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{Name: named.ImageName("2026112114"), Product: r.Name, Version: named.Version, Serial: "2026112114",
		Distro: r.Distro, Release: r.Release, Arch: r.Arch}
	tools := map[string]string{"mmdebstrap": "mmdebstrap 1.3.5"}
	id.BuildID = BuildID(r, id, tools)
	p := NewPlan(Params{Recipe: r, Mirror: "http://deb.debian.org/debian", SecurityMirror: "http://deb.debian.org/debian-security",
		Identity: id, SourceDateEpoch: created.Unix(), Created: created, Started: created, Tools: tools,
		Config: in.Config, Elements: in.Elements})
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestPlanStages(t *testing.T) {
	r, err := recipe.Parse("r.yaml", []byte("name: x\nversion: 1.0.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(NewPlan(Params{Recipe: r}).Names(), " ")
	if want := "bootstrap configure hygiene disk qcow2 manifest provenance"; got != want {
		t.Errorf("stages %q, want %q", got, want)
	}
}

func TestBootstrapArgs(t *testing.T) {
	b := Bootstrap{Release: "bookworm", Arch: "amd64", Mirror: "http://m/debian", SecurityMirror: "http://m/debian-security",
		Packages: []string{"vim", "curl", "vim"}}
	want := []string{"mmdebstrap", "--mode=auto", "--variant=apt", "--format=directory", "--arch=amd64",
		`--aptopt=Acquire::Retries "3"`, `--aptopt=Acquire::Languages "none"`, "--include=curl,vim", "bookworm", "/t",
		"deb http://m/debian bookworm main", "deb http://m/debian bookworm-updates main",
		"deb http://m/debian-security bookworm-security main"}
	if got := b.Args("/t"); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("args\n got %q\nwant %q", got, want)
	}
}

func TestRootfsTarArgs(t *testing.T) {
	got := strings.Join(RootfsTar{SourceDateEpoch: 1700000000}.Args("/tree", "/o.tar.zst"), " ")
	want := "tar --create --file /o.tar.zst --directory /tree --sort=name --numeric-owner --xattrs --xattrs-include=* --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --mtime=@1700000000 --clamp-mtime --one-file-system --use-compress-program=zstd -T0 -3 ."
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestReleaseFile(t *testing.T) {
	got := Identity{Name: "n", Product: "p", Version: "1", Serial: "s", BuildID: "sha256:x", Distro: "debian", Release: "bookworm", Arch: "amd64"}.ReleaseFile()
	if !strings.Contains(got, "BAKERY_PRODUCT=\"p\"\n") || !strings.Contains(got, "BAKERY_BUILD_ID=\"sha256:x\"\n") {
		t.Errorf("release file:\n%s", got)
	}
}
