package recipe

import (
	"reflect"
	"strings"
	"testing"
)

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(r *Recipe) bool
	}{
		{"no variables", nil, func(r *Recipe) bool { return r.Release == "bookworm" && reflect.DeepEqual(r.Packages, []string{"vim"}) }},
		{"release", map[string]string{"BAKERY_RELEASE": "trixie"}, func(r *Recipe) bool { return r.Release == "trixie" }},
		{"distro and arch", map[string]string{"BAKERY_DISTRO": "debian", "BAKERY_ARCH": "amd64"}, func(r *Recipe) bool { return r.Distro == "debian" && r.Arch == "amd64" }},
		{"version", map[string]string{"BAKERY_VERSION": "0.2.0~rc1"}, func(r *Recipe) bool { return r.Version == "0.2.0~rc1" }},
		{"mirror", map[string]string{"BAKERY_MIRROR": "http://mirror.local/debian"}, func(r *Recipe) bool { return r.Mirror == "http://mirror.local/debian" }},
		{"name template", map[string]string{"BAKERY_NAME_TEMPLATE": "{product}-{serial}"}, func(r *Recipe) bool { return r.NameTemplate == "{product}-{serial}" }},
		{"packages are added", map[string]string{"BAKERY_PACKAGES": "htop, curl\tjq  vim"}, func(r *Recipe) bool {
			return reflect.DeepEqual(r.Packages, []string{"curl", "htop", "jq", "vim"})
		}},
		{"outputs are replaced", map[string]string{"BAKERY_OUTPUTS": "rootfs-tar, raw"}, func(r *Recipe) bool {
			return reflect.DeepEqual(r.Outputs, []string{"raw", "rootfs-tar"})
		}},
		{"empty values are ignored", map[string]string{"BAKERY_RELEASE": " ", "BAKERY_OUTPUTS": ""}, func(r *Recipe) bool {
			return r.Release == "bookworm" && reflect.DeepEqual(r.Outputs, []string{"qcow2"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustParse(t, "name: cloud\nversion: 0.1.0\npackages: [vim]\n")
			if err := r.ApplyEnv(lookupIn(tc.env)); err != nil {
				t.Fatalf("ApplyEnv: %v", err)
			}
			if !tc.check(r) {
				t.Errorf("unexpected recipe after ApplyEnv(%v): %s", tc.env, r.Canonical())
			}
		})
	}
}

func TestApplyEnvErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string // each error's text
	}{
		{map[string]string{"BAKERY_RELEASE": "sid"}, []string{`$BAKERY_RELEASE: field "release": "sid" is not supported (allowed: bookworm, trixie)`}},
		{map[string]string{"BAKERY_DISTRO": "ubuntu"}, []string{`$BAKERY_DISTRO: field "distro": "ubuntu"`}},
		{map[string]string{"BAKERY_ARCH": "arm64"}, []string{`$BAKERY_ARCH: field "arch": "arm64"`}},
		{map[string]string{"BAKERY_VERSION": "1 2"}, []string{`$BAKERY_VERSION: field "version": "1 2" is not a valid version`}},
		{map[string]string{"BAKERY_MIRROR": "deb.debian.org"}, []string{`$BAKERY_MIRROR: field "mirror": "deb.debian.org": URL scheme`}},
		{map[string]string{"BAKERY_NAME_TEMPLATE": "{name}"}, []string{`$BAKERY_NAME_TEMPLATE: field "name_template": unknown placeholder {name}`}},
		{map[string]string{"BAKERY_PACKAGES": "vim,Bad_Name"}, []string{`$BAKERY_PACKAGES: field "packages": "Bad_Name" is not a valid Debian package name`}},
		{map[string]string{"BAKERY_OUTPUTS": "qcow2,iso"}, []string{`$BAKERY_OUTPUTS: field "outputs": "iso" is not supported`}},
		{map[string]string{"BAKERY_OUTPUTS": ", ,"}, []string{`$BAKERY_OUTPUTS: field "outputs": must list at least one output`}},
		{map[string]string{"BAKERY_OUTPUTS": "raw,raw"}, []string{`$BAKERY_OUTPUTS: field "outputs": "raw" is listed twice`}},
		{map[string]string{"BAKERY_RELEASE": "sid", "BAKERY_ARCH": "i386"}, []string{"$BAKERY_RELEASE: ", "$BAKERY_ARCH: "}},
		{map[string]string{"BAKERY_CONFIG_REF": "0.2.0"}, []string{`$BAKERY_CONFIG_REF: field "config": the recipe has no config section to override`}},
		{map[string]string{"BAKERY_ELEMENTS": "motd ../x"}, []string{`$BAKERY_ELEMENTS: field "elements": "../x" is not a valid element name`}},
	}
	for _, tc := range tests {
		r := mustParse(t, "name: cloud\nversion: 0.1.0\n")
		before := string(r.Canonical())
		err := r.ApplyEnv(lookupIn(tc.env))
		if err == nil {
			t.Errorf("ApplyEnv(%v) succeeded", tc.env)
			continue
		}
		got := userErrors(t, err)
		if len(got) != len(tc.want) {
			t.Errorf("ApplyEnv(%v): got %d errors, want %d: %v", tc.env, len(got), len(tc.want), err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ApplyEnv(%v) = %v, want it to contain %q", tc.env, err, w)
			}
		}
		for _, e := range got {
			if e.Line != 0 || e.Column != 0 {
				t.Errorf("env error has a position: %v", e)
			}
		}
		if string(r.Canonical()) != before {
			t.Errorf("failed ApplyEnv changed the recipe")
		}
	}
}

func TestApplyEnvDoesNotAliasPackages(t *testing.T) {
	r := mustParse(t, "name: cloud\nversion: 0.1.0\npackages: [vim]\n")
	copied := *r
	if err := r.ApplyEnv(lookupIn(map[string]string{"BAKERY_PACKAGES": "curl"})); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(copied.Packages, []string{"vim"}) {
		t.Errorf("ApplyEnv changed a copy's packages: %q", copied.Packages)
	}
}

func TestApplyEnvConfig(t *testing.T) {
	r := mustParse(t, "name: cloud\nversion: config\nelements: [motd]\nconfig: {repo: trees/puppet.git, ref: 0.1.0}\n")
	orig := *r.Config
	env := map[string]string{"BAKERY_CONFIG_REF": "main", "BAKERY_CONFIG_REPO": "/srv/puppet.git", "BAKERY_ELEMENTS": "webtools,motd2"}
	if err := r.ApplyEnv(lookupIn(env)); err != nil {
		t.Fatal(err)
	}
	if r.Config.Ref != "main" || r.Config.Repo != "/srv/puppet.git" || !reflect.DeepEqual(r.Elements, []string{"motd", "webtools", "motd2"}) {
		t.Errorf("after ApplyEnv: %s", r.Canonical())
	}
	if orig.Ref != "0.1.0" {
		t.Errorf("ApplyEnv changed the original config through its pointer")
	}
	bad := mustParse(t, "name: cloud\nversion: 1\nconfig: {repo: x, ref: a}\n")
	err := bad.ApplyEnv(lookupIn(map[string]string{"BAKERY_CONFIG_REF": "a b"}))
	if err == nil || !strings.Contains(err.Error(), `$BAKERY_CONFIG_REF: field "config.ref": "a b"`) {
		t.Errorf("bad BAKERY_CONFIG_REF: %v", err)
	}
	if bad.Config.Ref != "a" {
		t.Errorf("failed ApplyEnv changed the config")
	}
}

func TestConfigRepo(t *testing.T) {
	tests := []struct{ repo, want string }{
		{"https://git.example.org/p.git", "https://git.example.org/p.git"},
		{"git@git.example.org:p.git", "git@git.example.org:p.git"},
		{"/srv/p.git", "/srv/p.git"},
		{"trees/p.git", "/srv/recipes/trees/p.git"},
		{"../p.git", "/srv/p.git"},
	}
	for _, tc := range tests {
		r := &Recipe{Config: &Config{Repo: tc.repo}}
		if got := r.ConfigRepo("/srv/recipes"); got != tc.want {
			t.Errorf("ConfigRepo(%q) = %q, want %q", tc.repo, got, tc.want)
		}
	}
	if got := (&Recipe{}).ConfigRepo("/x"); got != "" {
		t.Errorf("no config: %q", got)
	}
}
