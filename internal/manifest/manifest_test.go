package manifest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/hygiene"
)

func testManifest() Manifest {
	return Manifest{
		Name: "debian-cloud-12.20250601.0", Product: "debian-cloud", Version: "12.20250601.0",
		Serial: "2025060112", BuildID: "sha256:0b1c", RecipeDigest: "sha256:9f8e",
		Distro: "debian", Release: "bookworm", Arch: "amd64",
		CreatedAt:     time.Date(2025, 6, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		BuildDuration: Duration(312*time.Second + 250*time.Millisecond),
		Packages:      []Package{testdataPackages[3], testdataPackages[0]},
		Artifacts: []Artifact{
			{Kind: "qcow2", Filename: "img.qcow2", SHA256: "ab", Size: 1 << 30},
			{Kind: "sbom", Filename: "img.sbom.spdx.json", SHA256: "cd", Size: 1234},
		},
		Hygiene: hygiene.Report{{Rule: "ssh-host-keys", Passed: true}, {Rule: "logs", Passed: false, Found: []string{"/var/log/x"}}},
		Tools:   map[string]string{"qemu-img": "7.2.9", "mmdebstrap": "1.3.5", "bakery": "0.1.0"},
		Recipe:  json.RawMessage(`{"name":"debian-cloud","packages":["curl","openssh-server"]}`),
	}
}

func TestManifestJSONGolden(t *testing.T) {
	got, err := testManifest().JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "manifest.golden.json", got)
}

func TestManifestRoundTrip(t *testing.T) {
	m := testManifest()
	data, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("round trip changed the manifest:\n%s\n%s", data, again)
	}
	if back.BuildDuration != m.BuildDuration || !back.CreatedAt.Equal(m.CreatedAt) {
		t.Errorf("times: %v %v, want %v %v", back.BuildDuration, back.CreatedAt, m.BuildDuration, m.CreatedAt)
	}
}

func TestEmptyManifestHasListsNotNulls(t *testing.T) {
	data, err := Manifest{}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"packages", "artifacts", "hygiene", "tools"} {
		if generic[k] == nil {
			t.Errorf("%s is null", k)
		}
	}
	if _, ok := generic["recipe"]; ok {
		t.Error("empty recipe written")
	}
	if data[len(data)-1] != '\n' {
		t.Error("no trailing newline")
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		d    Duration
		json string
	}{
		{0, "0"},
		{Duration(90 * time.Second), "90"},
		{Duration(1500 * time.Millisecond), "1.5"},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.d)
		if err != nil || string(got) != tt.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", time.Duration(tt.d), got, err, tt.json)
		}
		var back Duration
		if err := json.Unmarshal(got, &back); err != nil || back != tt.d {
			t.Errorf("Unmarshal(%s) = %v, %v", got, back, err)
		}
	}
	var d Duration
	for _, bad := range []string{`"90s"`, "1e300", "null"} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil && bad != "null" {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	if !reflect.DeepEqual(d, Duration(0)) {
		t.Errorf("d = %v after failures", d)
	}
}
