package build

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/lock"
	"github.com/bakery-dev/bakery/internal/recipe"
)

func testLock(t *testing.T, r *recipe.Recipe) *lock.Lock {
	t.Helper()
	l := &lock.Lock{
		Inputs: LockInputs(Params{Recipe: r}),
		Suites: []lock.Suite{
			{Name: "bookworm", URI: "http://deb.debian.org/debian", Codename: "bookworm", Date: "2026-07-11T10:16:37Z", InReleaseSHA256: strings.Repeat("a", 64)},
			{Name: "bookworm-updates", URI: "http://deb.debian.org/debian", Codename: "bookworm-updates", Date: "2026-11-30T02:21:41Z", InReleaseSHA256: strings.Repeat("b", 64)},
			{Name: "bookworm-security", URI: "http://deb.debian.org/debian-security", Codename: "bookworm-security", Date: "2026-11-29T18:00:00Z", InReleaseSHA256: strings.Repeat("c", 64)},
		},
		Packages: []lock.Package{
			{Name: "apt", Version: "2.6.2", Architecture: "amd64", SHA256: strings.Repeat("2", 64), Size: 1373116, Filename: "pool/updates/main/a/apt/apt_2.6.2_amd64.deb", Suite: "bookworm-security"},
			{Name: "libc6", Version: "2.36-9+deb12u14", Architecture: "amd64", SHA256: strings.Repeat("1", 64), Size: 2759320, Filename: "pool/main/g/glibc/libc6_2.36-9+deb12u14_amd64.deb", Suite: "bookworm"},
		},
		Tools: map[string]string{"mmdebstrap": "mmdebstrap 1.3.5"},
	}
	l.Normalize()
	return l
}

func lockedParams(t *testing.T, mirror string) Params {
	t.Helper()
	r, err := recipe.Load("testdata/recipes/debian-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)
	p := Params{Recipe: r, Mirror: mirror, SecurityMirror: "http://deb.debian.org/debian-security", Lock: testLock(t, r),
		InputsDir: "/state/inputs", KeyDir: "/state/keys", Created: created, Started: created, SourceDateEpoch: created.Unix(),
		Tools: map[string]string{"mmdebstrap": "mmdebstrap 1.3.5"}}
	if err := applyLock(&p); err != nil {
		t.Fatal(err)
	}
	p.Identity = Identity{Name: r.ImageName("2026113014"), Product: r.Name, Version: r.Version, Serial: "2026113014",
		Distro: r.Distro, Release: r.Release, Arch: r.Arch}
	if p.Identity.BuildID, err = buildID(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLockedPlanGolden shows what a locked build does differently: an
// inputs stage, mmdebstrap from the local repository with the lock's
// SOURCE_DATE_EPOCH, and UUIDs seeded by the locked build ID.
func TestLockedPlanGolden(t *testing.T) {
	raw, err := json.Marshal(NewPlan(lockedParams(t, "http://127.0.0.1:9/debian")))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	golden := "testdata/plans/debian-cloud.locked.json"
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("locked plan differs from %s (run with -update and review):\n%s", golden, got.Bytes())
	}
}

func TestLockedBuild(t *testing.T) {
	p := lockedParams(t, "http://127.0.0.1:9/debian")
	if p.SourceDateEpoch != time.Date(2026, 11, 30, 2, 21, 41, 0, time.UTC).Unix() {
		t.Errorf("SOURCE_DATE_EPOCH %d is not the newest suite date", p.SourceDateEpoch)
	}
	// The build ID depends on the lock and the image-shaping recipe fields,
	// not on the mirror, the serial or the tests.
	q := lockedParams(t, "http://deb.debian.org/debian")
	q.Recipe.Tests = []string{"tests/smoke.sh"}
	q.Identity.Serial = "2026113015"
	if id, _ := buildID(q); id != p.Identity.BuildID {
		t.Errorf("build ID changed with mirror/tests/serial: %s vs %s", id, p.Identity.BuildID)
	}
	q.Recipe.Version = "0.2.0"
	if id, _ := buildID(q); id == p.Identity.BuildID {
		t.Error("build ID ignores the version")
	}
	q = lockedParams(t, "")
	q.Lock.Packages[0].Version = "2.6.3"
	if id, _ := buildID(q); id == p.Identity.BuildID {
		t.Error("build ID ignores the lock")
	}
	// The image's sources name the lock's archives, not this build's mirror.
	b := NewPlan(p).Stages[1].(Bootstrap)
	if got := strings.Join(b.Sources(), "|"); !strings.Contains(got, "deb http://deb.debian.org/debian bookworm main") {
		t.Errorf("image sources %s", got)
	}
	in := NewPlan(p).Stages[0].(Inputs)
	urls := in.urls(p.Lock.Packages[1])
	if strings.Join(urls, " ") != "http://127.0.0.1:9/debian/pool/main/g/glibc/libc6_2.36-9+deb12u14_amd64.deb" {
		t.Errorf("urls %v", urls)
	}
	if urls := in.urls(p.Lock.Packages[0]); strings.Join(urls, " ") != "http://deb.debian.org/debian-security/pool/updates/main/a/apt/apt_2.6.2_amd64.deb" {
		t.Errorf("security urls %v", urls)
	}
}

func TestStaleLock(t *testing.T) {
	p := lockedParams(t, "")
	p.Recipe.Packages = append(p.Recipe.Packages, "htop")
	err := applyLock(&p)
	if !errors.Is(err, lock.ErrStale) || !strings.Contains(err.Error(), "htop") {
		t.Errorf("err %v, want ErrStale naming htop", err)
	}
}

func TestBootstrapFromArchiveArgs(t *testing.T) {
	b := Bootstrap{Release: "bookworm", Arch: "amd64", Mirror: "http://m/debian", SecurityMirror: "http://m/debian-security",
		Packages: []string{"curl"}, FromArchive: true, KeyDir: "/s/keys", SourceDateEpoch: 1795998101}
	want := []string{"mmdebstrap", "--mode=auto", "--variant=apt", "--format=directory", "--arch=amd64",
		`--aptopt=Acquire::Retries "3"`, `--aptopt=Acquire::Languages "none"`, "--include=curl", "bookworm", "/t",
		"deb [signed-by=/s/keys/local-repo.gpg] copy:///w/repo bookworm main"}
	got := b.argsWith("/t", b.installSources("/w/repo", "/s/keys/local-repo.gpg"))
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("args\n got %q\nwant %q", got, want)
	}
	if env := strings.Join(b.env(), " "); env != "SOURCE_DATE_EPOCH=1795998101" {
		t.Errorf("env %s", env)
	}
	tree := t.TempDir()
	if err := os.MkdirAll(tree+"/etc/apt", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.writeImageSources(tree); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(tree + "/etc/apt/sources.list")
	want2 := "deb http://m/debian bookworm main\n\ndeb http://m/debian bookworm-updates main\n\ndeb http://m/debian-security bookworm-security main\n"
	if string(data) != want2 {
		t.Errorf("sources.list %q, want %q", data, want2)
	}
}

func TestToolDrift(t *testing.T) {
	p := lockedParams(t, "")
	if d := ToolDrift(p); len(d) != 0 {
		t.Errorf("drift %v", d)
	}
	p.Tools = map[string]string{"mmdebstrap": "mmdebstrap 1.5.0"}
	if d := strings.Join(ToolDrift(p), ";"); d != `mmdebstrap: lock has "mmdebstrap 1.3.5", host has "mmdebstrap 1.5.0"` {
		t.Errorf("drift %q", d)
	}
}

func TestPinConfigAndCheckLock(t *testing.T) {
	r, err := recipe.Parse("r.yaml", []byte("name: x\nversion: 1.0.0\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := Params{Recipe: r,
		Config:   &configtree.Tree{Repo: "/srv/tree.git", Ref: "0.1.0", Commit: "abc123", Tag: "0.1.0"},
		Elements: []element.Element{{Name: "motd", Hash: "sha256:11"}},
	}
	l := &lock.Lock{Inputs: LockInputs(p)}
	if err := PinConfig(p, l); err != nil {
		t.Fatal(err)
	}
	data, err := l.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := lock.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckLock(p, back); err != nil {
		t.Fatalf("a fresh lock is stale: %v\n%s", err, data)
	}
	moved := p
	moved.Config = &configtree.Tree{Repo: "/srv/tree.git", Ref: "0.1.0", Commit: "def456", Tag: "0.1.0"}
	if err := CheckLock(moved, back); !errors.Is(err, lock.ErrStale) || !strings.Contains(err.Error(), "def456") {
		t.Errorf("a moved tag: %v", err)
	}
	changed := p
	changed.Elements = []element.Element{{Name: "motd", Hash: "sha256:22"}}
	if err := CheckLock(changed, back); !errors.Is(err, lock.ErrStale) || !strings.Contains(err.Error(), "elements") {
		t.Errorf("a changed element: %v", err)
	}
	plain := Params{Recipe: r}
	data, err = (&lock.Lock{Inputs: LockInputs(plain)}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	if back, err = lock.Decode(data); err != nil {
		t.Fatal(err)
	}
	if err := CheckLock(plain, back); err != nil {
		t.Errorf("a lock without config or elements: %v", err)
	}
}
