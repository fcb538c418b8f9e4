package configtree

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bakery-dev/bakery/internal/runner"
)

func TestArgs(t *testing.T) {
	tests := []struct {
		got  []string
		want string
	}{
		{cloneArgs("/srv/p.git", "/c/m.git"), "git clone --mirror --quiet -- /srv/p.git /c/m.git"},
		{fetchArgs("/c/m.git"), "git --git-dir=/c/m.git fetch --prune --force --quiet origin"},
		{revParseArgs("/c/m.git", "refs/tags/0.1.0"), "git --git-dir=/c/m.git rev-parse --verify --quiet --end-of-options refs/tags/0.1.0^{commit}"},
		{describeArgs("/c/m.git", "abc"), "git --git-dir=/c/m.git describe --tags --abbrev=12 abc"},
		{archiveArgs("/c/m.git", "abc", "/t/x.tar"), "git --git-dir=/c/m.git archive --format=tar --output=/t/x.tar abc"},
		{untarArgs("/t/x.tar", "/t/x"), "tar --extract --file=/t/x.tar --directory=/t/x --no-same-owner"},
		{copyArgs("/c/trees/abc", "/r/etc/puppet"), "cp -a -- /c/trees/abc/. /r/etc/puppet"},
		{mountProcArgs("/r"), "mount -t proc proc /r/proc"},
		{umountArgs("/r"), "umount --lazy /r/proc"},
		{ChrootArgs("/r", []string{"puppet", "--version"}), "chroot /r puppet --version"},
		{refCandidates("0.1.0"), "refs/tags/0.1.0 refs/heads/0.1.0 0.1.0"},
	}
	for _, tc := range tests {
		if got := strings.Join(tc.got, " "); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestApplyArgs(t *testing.T) {
	const env = "puppet apply --detailed-exitcodes --color=false --environmentpath=/etc/puppet/code/environments --environment=production"
	p := "/etc/puppet/code/environments/production"
	tests := []struct {
		spec ApplySpec
		want []string
	}{
		{ApplySpec{Path: p}, strings.Fields(env + " " + p + "/manifests")},
		{ApplySpec{Path: p, Manifest: "manifests/site.pp", HieraConfig: "/etc/bakery/hiera.yaml"},
			strings.Fields(env + " --hiera_config=/etc/bakery/hiera.yaml " + p + "/manifests/site.pp")},
		{ApplySpec{Path: p, Class: "site::role::buildmaster", Params: map[string]any{"vhost": "it's.example", "port": 8080, "tls": true, "ratio": 0.5}},
			append(strings.Fields(env+" -e"), `class { 'site::role::buildmaster': port => 8080, ratio => 0.5, tls => true, vhost => 'it\'s.example', }`)},
	}
	for _, tc := range tests {
		if got := tc.spec.Args(); strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
			t.Errorf("Args()\n got %q\nwant %q", got, tc.want)
		}
	}
	if err := (ApplySpec{Path: "/srv/Puppet-Tree"}).Validate(); err == nil {
		t.Error("Validate accepted an environment name with capitals and dashes")
	}
}

func TestApplyMountsProcAroundPuppet(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name    string
		errs    map[string]error
		wantErr error
	}{
		{"success", nil, nil},
		{"changes applied (exit 2)", map[string]error{"chroot": &runner.Error{ExitCode: 2}}, nil},
		{"resources failed (exit 6)", map[string]error{"chroot": &runner.Error{ExitCode: 6, Stderr: "Error: /Stage[main]/File[x]: boom"}}, ErrApply},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &runner.Recorder{Errs: tc.errs}
			err := Apply(context.Background(), rec, root, ApplySpec{Path: "/etc/puppet/code/environments/production", Class: "x"}, nil)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Apply = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && !strings.Contains(err.Error(), "boom") {
				t.Errorf("error lacks puppet's output: %v", err)
			}
			argv := rec.Argvs()
			if len(argv) != 3 || !strings.HasPrefix(argv[0], "mount -t proc") || !strings.HasPrefix(argv[1], "chroot "+root+" puppet apply") || !strings.HasPrefix(argv[2], "umount") {
				t.Errorf("commands %q, want mount, chroot puppet, umount", argv)
			}
		})
	}
}

func TestWithProcUnmountsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rec := &runner.Recorder{}
	err := WithProc(ctx, rec, t.TempDir(), func() error { cancel(); return ctx.Err() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WithProc = %v", err)
	}
	if argv := rec.Argvs(); len(argv) != 2 || !strings.HasPrefix(argv[1], "umount") {
		t.Errorf("commands %q, want mount then umount", argv)
	}
}

func TestFirstBootFiles(t *testing.T) {
	params := map[string]any{"vhost": "a'b\"c", "port": 8080, "tls": true, "ratio": 1.5}
	files := FirstBootFiles(ApplySpec{Path: "/etc/puppet/code/environments/production", Class: "::site::role::web", Params: params})
	byPath := map[string]File{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	script := byPath[FirstBootScript].Content
	// declared without parameters: every one is looked up in Hiera
	for _, want := range []string{"'--hiera_config=/etc/bakery/hiera.yaml'", `'class { '\''::site::role::web'\'': }'`, `[ "$rc" -eq 2 ]`} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s:\n%s", want, script)
		}
	}
	if strings.Contains(script, "vhost") {
		t.Errorf("script passes parameters, which would beat the deploy-time data:\n%s", script)
	}
	wantData := "# written by bakery: the recipe's config.apply.params, below deploy-time data\n" +
		`"site::role::web::port": 8080` + "\n" + `"site::role::web::ratio": 1.5` + "\n" +
		`"site::role::web::tls": true` + "\n" + `"site::role::web::vhost": "a'b\"c"` + "\n"
	if got := byPath[RecipeParams].Content; got != wantData {
		t.Errorf("recipe params data:\n%s\nwant\n%s", got, wantData)
	}
	hiera := byPath[FirstBootHiera].Content
	if d, r := strings.Index(hiera, "path: deploy.yaml"), strings.Index(hiera, "path: recipe-params.yaml"); d < 0 || r < d {
		t.Errorf("hiera.yaml must look up deploy.yaml, then recipe-params.yaml:\n%s", hiera)
	}
	if !strings.Contains(byPath[FirstBootUnit].Content, "After=cloud-config.service") {
		t.Errorf("unit wrong: %s", byPath[FirstBootUnit].Content)
	}
}

func TestFirstBootFilesWithoutParams(t *testing.T) {
	for _, s := range []ApplySpec{
		{Path: "/etc/puppet/code/environments/production", Class: "site::role::web"},
		{Path: "/etc/puppet/code/environments/production", Manifest: "manifests/site.pp"},
	} {
		for _, f := range FirstBootFiles(s) {
			if f.Path == RecipeParams {
				t.Errorf("%+v: writes %s without parameters", s, RecipeParams)
			}
		}
	}
}

func TestSafeDirRefusesSymlinks(t *testing.T) {
	root := t.TempDir()
	if _, err := SafeDir(root, "/etc/puppet/code"); err != nil {
		t.Fatal(err)
	}
	if err := osSymlink("/", root+"/etc/evil"); err != nil {
		t.Fatal(err)
	}
	if _, err := SafeDir(root, "/etc/evil/x"); !errors.Is(err, ErrSymlinkInPath) {
		t.Errorf("SafeDir through a symlink = %v", err)
	}
}
