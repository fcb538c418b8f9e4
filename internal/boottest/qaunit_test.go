package boottest

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"gopkg.in/yaml.v3"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/qemu"
)

func TestQAArgv(t *testing.T) {
	tests := []struct {
		got  []string
		want string
	}{
		{GrownOverlayArgs("/img/a.qcow2", "/w/bios-overlay.qcow2", 6442450944),
			"qemu-img create -q -f qcow2 -b /img/a.qcow2 -F qcow2 /w/bios-overlay.qcow2 6442450944"},
		{ConvertRawArgs("/img/a.qcow2", "/w/offline/disk.raw"), "qemu-img convert -q -O raw /img/a.qcow2 /w/offline/disk.raw"},
		{RdumpArgs("/w/offline/disk.raw", 134217728, "/w/offline/tree"),
			"debugfs -R rdump / /w/offline/tree /w/offline/disk.raw?offset=134217728"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("argv\n got %s\nwant %s", got, tt.want)
		}
	}
	if a := RdumpArgs("/d", 1, "/t"); len(a) != 4 || a[2] != "rdump / /t" {
		t.Errorf("the debugfs request must be one argument: %q", a)
	}
}

func TestIdentitySeed(t *testing.T) {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewIdentity()
	if id.Hostname == other.Hostname || id.InstanceID == other.InstanceID || id.AuthorizedKey() == other.AuthorizedKey() {
		t.Errorf("two identities share a hostname, instance or key: %+v %+v", id, other)
	}
	img, err := id.Seed().ISO()
	if err != nil {
		t.Fatal(err)
	}
	v, err := readISO(img)
	if err != nil {
		t.Fatal(err)
	}
	if v.jolietLabel != SeedLabel {
		t.Errorf("label %q", v.jolietLabel)
	}
	var meta map[string]string
	if err := yaml.Unmarshal(v.joliet["meta-data"], &meta); err != nil || meta["local-hostname"] != id.Hostname || meta["instance-id"] != id.InstanceID {
		t.Errorf("meta-data %q (%v)", v.joliet["meta-data"], err)
	}
	ud := v.joliet["user-data"]
	if !bytes.HasPrefix(ud, []byte("#cloud-config\n")) {
		t.Errorf("user-data does not start with #cloud-config: %q", ud)
	}
	var cfg struct {
		Hostname string `yaml:"hostname"`
		Users    []struct {
			Name       string   `yaml:"name"`
			Sudo       string   `yaml:"sudo"`
			LockPasswd bool     `yaml:"lock_passwd"`
			Keys       []string `yaml:"ssh_authorized_keys"`
		} `yaml:"users"`
		SSHPwauth *bool    `yaml:"ssh_pwauth"`
		KeyTypes  []string `yaml:"ssh_genkeytypes"`
	}
	if err := yaml.Unmarshal(ud, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Hostname != id.Hostname || len(cfg.Users) != 1 || cfg.Users[0].Name != QAUser || !cfg.Users[0].LockPasswd ||
		cfg.Users[0].Sudo != "ALL=(ALL) NOPASSWD:ALL" || cfg.SSHPwauth == nil || *cfg.SSHPwauth || len(cfg.Users[0].Keys) != 1 {
		t.Fatalf("user-data %+v", cfg)
	}
	if strings.Join(cfg.KeyTypes, ",") != "ed25519,ecdsa" {
		t.Errorf("host key types %v", cfg.KeyTypes)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(cfg.Users[0].Keys[0]))
	if err != nil || !bytes.Equal(pub.Marshal(), id.Signer.PublicKey().Marshal()) || pub.Type() != ssh.KeyAlgoED25519 {
		t.Errorf("authorized key %q is not the identity's ed25519 key (%v)", cfg.Users[0].Keys[0], err)
	}
}

func sampleReport() Report {
	return Report{
		Image: "debian.qcow2", Accel: qemu.TCG, Duration: 95 * time.Second,
		Boots: []Boot{{Firmware: qemu.BIOS, Passed: true, BootToSSH: 41 * time.Second}, {Firmware: qemu.UEFI, Passed: true, BootToSSH: 44 * time.Second}},
		Checks: []Check{
			{Name: "hygiene/ssh-host-keys", Passed: true, Duration: time.Second, Evidence: "clean"},
			{Name: "boot", Firmware: qemu.BIOS, Passed: true, Duration: 41 * time.Second, Evidence: "SSH answered"},
			{Name: "recipe-test/tests/web.sh", Firmware: qemu.BIOS, Duration: 2 * time.Second, Evidence: "exit 1; TAP 1/2 ok",
				Output: "ok 1\nnot ok 2 - <nginx> & co\n"},
			{Name: "boot", Firmware: qemu.UEFI, Passed: true, Duration: 44 * time.Second, Evidence: "SSH answered"},
			{Name: "machine-id-unique", Skipped: true, Evidence: "needs two boots"},
		},
	}
}

func TestJUnit(t *testing.T) {
	b, err := sampleReport().JUnit()
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bakery test debian.qcow2" tests="5" failures="1" skipped="1" time="95.000">
  <testsuite name="offline" tests="1" failures="0" skipped="0" time="1.000">
    <testcase name="hygiene/ssh-host-keys" classname="bakery.offline" time="1.000">
      <system-out>clean</system-out>
    </testcase>
  </testsuite>
  <testsuite name="bios" tests="2" failures="1" skipped="0" time="43.000">
    <testcase name="boot" classname="bakery.bios" time="41.000">
      <system-out>SSH answered</system-out>
    </testcase>
    <testcase name="recipe-test/tests/web.sh" classname="bakery.bios" time="2.000">
      <failure message="exit 1; TAP 1/2 ok">exit 1; TAP 1/2 ok</failure>
      <system-out>ok 1&#xA;not ok 2 - &lt;nginx&gt; &amp; co&#xA;</system-out>
    </testcase>
  </testsuite>
  <testsuite name="uefi" tests="1" failures="0" skipped="0" time="44.000">
    <testcase name="boot" classname="bakery.uefi" time="44.000">
      <system-out>SSH answered</system-out>
    </testcase>
  </testsuite>
  <testsuite name="across-boots" tests="1" failures="0" skipped="1" time="0.000">
    <testcase name="machine-id-unique" classname="bakery.across-boots" time="0.000">
      <skipped message="needs two boots"></skipped>
    </testcase>
  </testsuite>
</testsuites>
`
	if string(b) != want {
		t.Errorf("JUnit XML:\n%s\nwant:\n%s", b, want)
	}
	var back junitSuites
	if err := xml.Unmarshal(b, &back); err != nil || back.Suites[1].Cases[1].SystemOut != "ok 1\nnot ok 2 - <nginx> & co\n" {
		t.Errorf("XML does not read back: %v %+v", err, back)
	}
}

func TestReportQAResult(t *testing.T) {
	r := sampleReport()
	r.Passed, r.Started = false, time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	arts := []catalog.Artifact{{Kind: catalog.KindQAReport, Filename: "qa-report.json", Digest: "sha256:x", Size: 1}}
	q := r.QAResult(arts)
	if q.Passed || q.Accel != "tcg" || q.BootToSSH != 44*time.Second || !q.TestedAt.Equal(r.Started) || q.Duration != r.Duration ||
		strings.Join(q.Firmwares, ",") != "bios,uefi" || len(q.Boots) != 2 || len(q.Checks) != 5 || len(q.Artifacts) != 1 {
		t.Fatalf("QAResult = %+v", q)
	}
	if c := q.Checks[2]; c.Name != "recipe-test/tests/web.sh" || c.Firmware != "bios" || c.Passed || c.Evidence != "exit 1; TAP 1/2 ok" {
		t.Errorf("check %+v", c)
	}
	if c := q.Checks[4]; !c.Skipped || c.Firmware != "" {
		t.Errorf("skipped check %+v", c)
	}
	if err := q.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if failed := q.Failed(); len(failed) != 1 || failed[0].Name != "recipe-test/tests/web.sh" {
		t.Errorf("Failed = %+v", failed)
	}
}

func TestCrossBootChecks(t *testing.T) {
	boots := []Boot{
		{Firmware: qemu.BIOS, Passed: true, HostKey: "SHA256:a", MachineID: "m1"},
		{Firmware: qemu.UEFI, Passed: true, HostKey: "SHA256:b", MachineID: "m1"},
	}
	checks := crossBootChecks(boots)
	if !checks[0].Passed || checks[0].Name != CheckHostKeysUnique {
		t.Errorf("distinct keys: %+v", checks[0])
	}
	if checks[1].Passed || checks[1].Skipped || checks[1].Evidence != "the bios and uefi boots share the machine ID m1" {
		t.Errorf("shared machine ID: %+v", checks[1])
	}
	boots[1].Passed = false
	for _, c := range crossBootChecks(boots) {
		if !c.Skipped || c.Failed() {
			t.Errorf("one boot answered: %+v", c)
		}
	}
}
