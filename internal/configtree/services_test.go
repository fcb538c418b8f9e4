package configtree

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var osSymlink = os.Symlink

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestServices(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"site/site/manifests/apache/python_vhost.pp": `# A Python app behind Apache.
define site::apache::python_vhost (String $docroot = "/srv/${title}") {
  apache_backend::vhost { $title: docroot => $docroot }
  include stdlib
}
`,
		"site/site/manifests/role/buildmaster.pp": `class site::role::buildmaster (String $vhost) {
  class { '::ntp': servers => ['ntp.example'] }
  site::apache::python_vhost { $vhost: }
  # include unused_in_comment
}
class site::role::other { contain apache_backend::params }
`,
		"modules/site_extra/manifests/init.pp":     "class site_extra { require ntp::client }\n",
		"modules/apache_backend/manifests/init.pp": "class apache_backend { include stdlib }\n", // backend: not scanned
	})
	tree := &Tree{Dir: dir, Modules: []Module{
		{Name: "apache_backend", Version: "1.0.0", Commit: "abc", Spec: ModuleSpec{Git: "/g/a.git", Ref: "1.0.0"}},
		{Name: "ntp", Spec: ModuleSpec{Path: "vendor/ntp"}, SHA256: "sha256:1"},
		{Name: "stdlib", Spec: ModuleSpec{Git: "/g/s.git"}},
		{Name: "unused_in_comment", Spec: ModuleSpec{Git: "/g/u.git"}},
	}}
	got, err := tree.Services()
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{
		{Module: "apache_backend", Version: "1.0.0", Source: "/g/a.git", Ref: "1.0.0", Commit: "abc", UsedBy: []string{"site::apache::python_vhost", "site::role::other"}},
		{Module: "ntp", Source: "vendor/ntp", SHA256: "sha256:1", UsedBy: []string{"site::role::buildmaster", "site_extra"}},
		{Module: "stdlib", Source: "/g/s.git", UsedBy: []string{"site::apache::python_vhost"}},
		{Module: "unused_in_comment", Source: "/g/u.git", UsedBy: []string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Services()\n got %+v\nwant %+v", got, want)
	}
}
