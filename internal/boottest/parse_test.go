package boottest

import (
	"strings"
	"testing"
)

func TestParseRelease(t *testing.T) {
	in := "BAKERY_NAME=\"debian-bookworm.amd64-0.1.0-2026120204\"\nBAKERY_PRODUCT=\"debian-cloud\"\nBAKERY_VERSION=\"0.1.0\"\n" +
		"BAKERY_SERIAL=\"2026120204\"\nBAKERY_BUILD_ID=\"sha256:2882\"\nBAKERY_DISTRO=\"debian\"\n# comment\nnonsense\nBAKERY_ODD=\"x\"\n"
	got := ParseRelease(in)
	want := Release{Name: "debian-bookworm.amd64-0.1.0-2026120204", Product: "debian-cloud", Version: "0.1.0", BuildID: "sha256:2882"}
	if got != want {
		t.Fatalf("ParseRelease = %+v, want %+v", got, want)
	}
	if d := want.diff(got); d != "" {
		t.Errorf("diff of equal releases: %q", d)
	}
	if d := (Release{Product: "debian-cloud", Version: "0.1.0", BuildID: "sha256:2882"}).diff(got); d != "" {
		t.Errorf("an expectation without a name compares the name: %q", d)
	}
	other := got
	other.Version, other.BuildID = "0.2.0", "sha256:ffff"
	if d := want.diff(other); d != `version "0.2.0", want "0.1.0"; build id "sha256:ffff", want "sha256:2882"` {
		t.Errorf("diff = %q", d)
	}
	if got := ParseRelease("BAKERY_VERSION=0.3.0\n"); got.Version != "0.3.0" {
		t.Errorf("unquoted value: %+v", got)
	}
}

func TestCloudInitParsing(t *testing.T) {
	if s := cloudInitStatus("......\nstatus: done\ntime: Wed, 02 Dec 2026 05:17:40 +0000\ndetail:\nDataSourceNoCloud [seed=/dev/vdb][dsmode=net]\n"); s != "done" {
		t.Errorf("status = %q", s)
	}
	if s := cloudInitStatus("...status: error\n"); s != "error" {
		t.Errorf("status after dots on the same line = %q", s)
	}
	if s := cloudInitStatus("garbage"); s != "" {
		t.Errorf("status of garbage = %q", s)
	}
	r, err := parseCloudInitResult([]byte(`{"v1": {"datasource": "DataSourceNoCloud [seed=/dev/vdb][dsmode=net]", "errors": ["x"]}}`))
	if err != nil || r.Datasource != "DataSourceNoCloud [seed=/dev/vdb][dsmode=net]" || len(r.Errors) != 1 {
		t.Errorf("parseCloudInitResult = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "{}", "[", `{"v1": 3}`} {
		if _, err := parseCloudInitResult([]byte(bad)); err == nil {
			t.Errorf("parseCloudInitResult(%q) succeeded", bad)
		}
	}
}

func TestTAPSummary(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1..3\nok 1 - a\nok 2 - b\nok 3\n", "TAP 3/3 ok (plan 1..3)"},
		{"TAP version 13\n1..2\nok 1 - a\nnot ok 2 - nginx answers\n  ---\n  ...\n", "TAP 1/2 ok (plan 1..2): not ok 2 - nginx answers"},
		{"ok\nnot ok\n", "TAP 1/2 ok: not ok"},
		{"hello\nworld\n", ""},
		{"", ""},
		{"looks ok to me\n", ""},
	}
	for _, tt := range tests {
		if got := tapSummary(tt.in); got != tt.want {
			t.Errorf("tapSummary(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHostKeys(t *testing.T) {
	out := "btime 1000\nkey 1012 256 SHA256:ed root@bakery-qa (ED25519)\nkey 1013 3072 SHA256:rsa root@bakery-qa (RSA)\n"
	keys, btime, err := parseHostKeys(out)
	if err != nil || btime != 1000 || len(keys) != 2 || keys[0] != (hostKey{1012, "SHA256:ed", "ED25519"}) {
		t.Fatalf("parseHostKeys = %+v %d %v", keys, btime, err)
	}
	if _, _, err := parseHostKeys("key 1 256 SHA256:x r (RSA)\n"); err == nil {
		t.Error("no btime accepted")
	}
	if _, _, err := parseHostKeys("btime 1\nkey x 256 SHA256:x r (RSA)\n"); err == nil {
		t.Error("bad mtime accepted")
	}
	tests := []struct {
		name   string
		keys   []hostKey
		seen   string
		passed bool
		in     string
	}{
		{"fresh", keys, "SHA256:ed", true, "2 host keys made 12s after boot; SSH served ED25519 SHA256:ed"},
		{"baked", []hostKey{{500, "SHA256:ed", "ED25519"}}, "SHA256:ed", false, "before this boot"},
		{"none", nil, "SHA256:ed", false, "no /etc/ssh"},
		{"served another", keys, "SHA256:other", false, "not among"},
	}
	for _, tt := range tests {
		v := judgeHostKeys(tt.keys, btime, tt.seen)
		if v.passed != tt.passed || !strings.Contains(v.evidence, tt.in) {
			t.Errorf("%s: %+v", tt.name, v)
		}
	}
}

func TestJudgeRootSize(t *testing.T) {
	const gb, mb = 1 << 30, 1 << 20
	tests := []struct {
		root, disk, image int64
		passed            bool
	}{
		{5836 * mb, 6 * gb, 4 * gb, true},
		{3993 * mb, 6 * gb, 4 * gb, false}, // never grown
		{4608 * mb, 6 * gb, 4 * gb, false}, // grown a little
		{5632 * mb, 6 * gb, 6 * gb, false}, // not bigger than the image
	}
	for _, tt := range tests {
		v := judgeRootSize(tt.root, "/dev/vda1", tt.disk, tt.image)
		if v.passed != tt.passed {
			t.Errorf("judgeRootSize(%d, %d, %d) = %+v", tt.root, tt.disk, tt.image, v)
		}
	}
	if v := judgeRootSize(5836*mb, "/dev/vda1", 6*gb, 4*gb); v.evidence != "root 5.70 GiB on /dev/vda1 is 95% of the 6.00 GiB disk (the image's disk is 4.00 GiB)" {
		t.Errorf("evidence %q", v.evidence)
	}
}

func TestJudgeNetwork(t *testing.T) {
	tests := []struct {
		in     string
		passed bool
		want   string
	}{
		{"default via 10.0.2.2 dev enp0s1 \n--\n2: enp0s1    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic enp0s1\\       valid_lft 86300sec\n--\nnameserver 10.0.2.3\n",
			true, "default via 10.0.2.2 dev enp0s1; address 10.0.2.15/24 on enp0s1; nameserver 10.0.2.3"},
		{"--\n2: enp0s1    inet 10.0.2.15/24\n--\nnameserver 10.0.2.3\n", false, "no default route"},
		{"default via 10.0.2.2 dev enp0s1\n--\n--\nnameserver 10.0.2.3\n", false, "no global IPv4 address"},
		{"default via 10.0.2.2 dev enp0s1\n--\n2: enp0s1    inet 10.0.2.15/24\n--\n", false, "no nameserver"},
		{"", false, "no default route"},
	}
	for _, tt := range tests {
		v := judgeNetwork(tt.in)
		if v.passed != tt.passed || !strings.Contains(v.evidence, tt.want) {
			t.Errorf("judgeNetwork(%q) = %+v, want %v %q", tt.in, v, tt.passed, tt.want)
		}
	}
}

func TestSmallParsers(t *testing.T) {
	if got := failedUnits("nginx.service loaded failed failed nginx\n● foo.mount loaded failed failed Foo\n\n"); strings.Join(got, ",") != "nginx.service,foo.mount" {
		t.Errorf("failedUnits = %v", got)
	}
	if got := failedUnits(""); got[0] != "(none listed)" {
		t.Errorf("failedUnits of nothing = %v", got)
	}
	for id, ok := range map[string]bool{
		"4a757bea58974664aa16832d5dfd008f": true, "": false, "uninitialized": false,
		"00000000000000000000000000000000": false, "4A757BEA58974664AA16832D5DFD008F": false, "4a757bea58974664aa16832d5dfd008": false,
	} {
		if isMachineID(id) != ok {
			t.Errorf("isMachineID(%q) = %v", id, !ok)
		}
	}
	if got := guestPath(0, "tests/../we ird;rm -rf.sh"); got != "/tmp/bakery-tests/01-we_ird_rm_-rf.sh" {
		t.Errorf("guestPath = %q", got)
	}
}

func FuzzParsers(f *testing.F) {
	f.Add("btime 1\nkey 2 256 SHA256:x r (ED25519)\n")
	f.Add("BAKERY_NAME=\"x\"\n")
	f.Add("default via x\n--\n2: e inet 1/2\n--\nnameserver 1\n")
	f.Fuzz(func(t *testing.T, s string) {
		parseHostKeys(s)
		ParseRelease(s)
		judgeNetwork(s)
		tapSummary(s)
		cloudInitStatus(s)
		parseCloudInitResult([]byte(s))
		failedUnits(s)
	})
}
