package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/configtree"
	"github.com/bakery-dev/bakery/internal/element"
	"github.com/bakery-dev/bakery/internal/recipe"
	"github.com/bakery-dev/bakery/internal/runner"
)

// testInputs stands in for resolution in plan tests: a fixed config tree
// (no git) and the recipe's elements from testdata/elements.
func testInputs(t *testing.T, r *recipe.Recipe) Params {
	t.Helper()
	var p Params
	if r.Config != nil {
		p.Config = &configtree.Tree{Repo: r.Config.Repo, Ref: r.Config.Ref, Commit: strings.Repeat("c0ffee", 6) + "c0ff", Tag: r.Config.Ref,
			Modules: []configtree.Module{{Name: "apache_backend", Commit: strings.Repeat("ab", 20), Version: "1.2.0",
				Spec: configtree.ModuleSpec{Name: "acme-apache_backend", Git: "/var/tmp/bakery-examples/apache_backend.git", RefKind: "tag", Ref: "1.2.0"}}}}
	}
	if len(r.Elements) > 0 {
		elems, err := element.Resolve([]string{"testdata/elements"}, r.Elements)
		if err != nil {
			t.Fatal(err)
		}
		p.Elements = elems
	}
	return p
}

func TestPlanWithConfigAndElements(t *testing.T) {
	r, err := recipe.Load("testdata/recipes/releng-puppet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := testInputs(t, r)
	p := NewPlan(Params{Recipe: r, Config: in.Config, Elements: in.Elements})
	got := strings.Join(p.Names(), " ")
	if want := "bootstrap configure elements config-tree puppet-apply hygiene disk qcow2 manifest provenance"; got != want {
		t.Errorf("stages %q, want %q", got, want)
	}
	include := p.Stages[0].(Bootstrap).Args("T")[7]
	for _, pkg := range []string{"puppet", "curl", "jq"} {
		if !strings.Contains(include, ","+pkg+",") {
			t.Errorf("bootstrap %s lacks %s", include, pkg)
		}
	}
}

func TestImageVersion(t *testing.T) {
	r := &recipe.Recipe{Name: "x1", Version: "config", Config: &recipe.Config{Repo: "/r", Ref: "main"}}
	tests := []struct {
		tag, want string
		is        error
	}{
		{"0.1.0", "0.1.0", nil},
		{"v2.0.0", "2.0.0", nil},
		{"0.1.0-3-g0123456789ab", "0.1.0-3-g0123456789ab", nil},
		{"", "", ErrNoConfigTag},
	}
	for _, tc := range tests {
		got, err := imageVersion(r, &configtree.Tree{Tag: tc.tag})
		if tc.is != nil {
			if !errors.Is(err, tc.is) {
				t.Errorf("tag %q: %v, want %v", tc.tag, err, tc.is)
			}
			continue
		}
		if err != nil || got.Version != tc.want || got.ImageName("2026112114") != "debian-bookworm.amd64-"+tc.want+"-2026112114" {
			t.Errorf("tag %q: %v %v", tc.tag, got, err)
		}
	}
	if _, err := imageVersion(r, &configtree.Tree{Tag: "release/1.0"}); err == nil {
		t.Error("a tag with / made a version")
	}
	fixed := &recipe.Recipe{Version: "1.0.0"}
	if got, _ := imageVersion(fixed, nil); got != fixed {
		t.Error("a fixed version changed")
	}
}

func TestReleaseFileConfig(t *testing.T) {
	id := Identity{Name: "n", ConfigRef: "0.1.0", ConfigCommit: "abc"}
	got := id.ReleaseFile()
	if !strings.Contains(got, "BAKERY_CONFIG_REF=\"0.1.0\"\nBAKERY_CONFIG_COMMIT=\"abc\"\n") {
		t.Errorf("release file:\n%s", got)
	}
	if strings.Contains(Identity{Name: "n"}.ReleaseFile(), "CONFIG") {
		t.Error("release file without a config tree mentions one")
	}
}

func TestConfigTreeStageFirstBoot(t *testing.T) {
	ws := &Workspace{Dir: t.TempDir(), Tree: t.TempDir(), Runner: runner.Exec{}}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "environment.conf"), []byte("modulepath = site:modules\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := configtree.ApplySpec{Path: "/etc/puppet/code/environments/production", Class: "site::role::web"}
	s := ConfigTree{Tree: &configtree.Tree{Dir: src, Commit: "abc"}, Path: spec.Path, FirstBoot: &spec}
	if err := s.Run(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{spec.Path + "/environment.conf", configtree.FirstBootScript, configtree.LockFile,
		"/etc/systemd/system/multi-user.target.wants/bakery-puppet-first-boot.service"} {
		if _, err := os.Lstat(filepath.Join(ws.Tree, p)); err != nil {
			t.Errorf("image lacks %s", p)
		}
	}
}
