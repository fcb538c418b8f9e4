package boottest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// isoVolume is what readISO finds in an image.
type isoVolume struct {
	label, jolietLabel string
	sectors            uint32
	primary, joliet    map[string][]byte // file name → content
}

// readISO parses an image the way a kernel would: volume descriptors from
// sector 16, then each tree's root directory.
func readISO(img []byte) (*isoVolume, error) {
	v := &isoVolume{}
	for s := 16; ; s++ {
		if (s+1)*isoSector > len(img) {
			return nil, fmt.Errorf("no descriptor terminator")
		}
		d := img[s*isoSector : (s+1)*isoSector]
		if string(d[1:6]) != "CD001" || d[6] != 1 {
			return nil, fmt.Errorf("sector %d: not a volume descriptor", s)
		}
		if d[0] == 255 {
			break
		}
		if binary.LittleEndian.Uint16(d[128:]) != isoSector || binary.BigEndian.Uint16(d[130:]) != isoSector {
			return nil, fmt.Errorf("sector %d: block size", s)
		}
		files, err := readDir(img, d[156:190])
		if err != nil {
			return nil, err
		}
		switch {
		case d[0] == 1:
			v.label, v.sectors, v.primary = strings.TrimRight(string(d[40:72]), " "), bothUint32(d[80:]), files
		case d[0] == 2 && string(d[88:91]) == "%/E":
			v.jolietLabel, v.joliet = strings.TrimRight(fromUCS2(d[40:72]), " "), map[string][]byte{}
			for name, data := range files {
				v.joliet[fromUCS2([]byte(name))] = data
			}
		}
	}
	if v.primary == nil || v.joliet == nil {
		return nil, fmt.Errorf("primary or Joliet descriptor missing")
	}
	return v, nil
}

func bothUint32(b []byte) uint32 {
	le, be := binary.LittleEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if le != be {
		return 1 << 31 // flags the mismatch in any comparison
	}
	return le
}

func readDir(img []byte, root []byte) (map[string][]byte, error) {
	extent, size := bothUint32(root[2:]), bothUint32(root[10:])
	if root[25]&2 == 0 || int(extent)*isoSector+int(size) > len(img) {
		return nil, fmt.Errorf("bad root directory record")
	}
	dir := img[int(extent)*isoSector : int(extent)*isoSector+int(size)]
	files := map[string][]byte{}
	for pos := 0; pos < len(dir); {
		n := int(dir[pos])
		if n == 0 { // the rest of this sector is padding
			pos = (pos/isoSector + 1) * isoSector
			continue
		}
		r := dir[pos : pos+n]
		id := string(r[33 : 33+int(r[32])])
		if id != "\x00" && id != "\x01" {
			e, l := bothUint32(r[2:]), bothUint32(r[10:])
			if int(e)*isoSector+int(l) > len(img) {
				return nil, fmt.Errorf("%q beyond the image", id)
			}
			files[id] = img[int(e)*isoSector : int(e)*isoSector+int(l)]
		}
		pos += n
	}
	return files, nil
}

func fromUCS2(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.BigEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

var testSeed = Seed{
	UserData:      []byte("#cloud-config\npassword: bakery\nchpasswd: {expire: false}\n"),
	MetaData:      []byte("instance-id: iid-bakery-test\nlocal-hostname: bakery-test\n"),
	NetworkConfig: []byte("version: 2\nethernets:\n  all:\n    match: {name: \"e*\"}\n    dhcp4: true\n"),
}

func TestSeedISO(t *testing.T) {
	img, err := testSeed.ISO()
	if err != nil {
		t.Fatal(err)
	}
	v, err := readISO(img)
	if err != nil {
		t.Fatal(err)
	}
	if v.label != SeedLabel || v.jolietLabel != SeedLabel {
		t.Errorf("labels %q, %q; want %q", v.label, v.jolietLabel, SeedLabel)
	}
	if int(v.sectors)*isoSector != len(img) {
		t.Errorf("volume of %d sectors in %d bytes", v.sectors, len(img))
	}
	want := map[string][]byte{"user-data": testSeed.UserData, "meta-data": testSeed.MetaData, "network-config": testSeed.NetworkConfig}
	wantPrimary := map[string][]byte{"USER_DATA.;1": testSeed.UserData, "META_DATA.;1": testSeed.MetaData, "NETWORK_CONFIG.;1": testSeed.NetworkConfig}
	assertFiles(t, "joliet", v.joliet, want)
	assertFiles(t, "primary", v.primary, wantPrimary)
}

func assertFiles(t *testing.T, tree string, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s tree has %d files, want %d", tree, len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s %s = %q, want %q", tree, name, got[name], data)
		}
	}
}

func TestSeedISOWithoutNetworkConfig(t *testing.T) {
	s := testSeed
	s.NetworkConfig = nil
	img, err := s.ISO()
	if err != nil {
		t.Fatal(err)
	}
	v, err := readISO(img)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.joliet["network-config"]; ok || len(v.joliet) != 2 {
		t.Fatalf("files %v, want only user-data and meta-data", v.joliet)
	}
}

func TestSeedISOIsReproducible(t *testing.T) {
	a, _ := testSeed.ISO()
	b, _ := testSeed.ISO()
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different images")
	}
	s := testSeed
	s.ModTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	c, _ := s.ISO()
	if bytes.Equal(a, c) || !bytes.Contains(c, []byte("2024050607080900")) {
		t.Fatal("ModTime not recorded")
	}
}

func TestSeedISOLargeFiles(t *testing.T) {
	s := Seed{UserData: bytes.Repeat([]byte("#"), 3*isoSector+1), MetaData: []byte{}}
	img, err := s.ISO()
	if err != nil {
		t.Fatal(err)
	}
	v, err := readISO(img)
	if err != nil {
		t.Fatal(err)
	}
	assertFiles(t, "joliet", v.joliet, map[string][]byte{"user-data": s.UserData, "meta-data": {}})
}

func TestWriteSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.iso")
	if err := WriteSeed(path, testSeed); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := testSeed.ISO()
	if !bytes.Equal(got, want) {
		t.Fatal("file differs from Seed.ISO")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if err := WriteSeed(filepath.Join(t.TempDir(), "missing", "seed.iso"), testSeed); err == nil {
		t.Fatal("WriteSeed into a missing directory succeeded")
	}
}

func TestPrimaryName(t *testing.T) {
	tests := map[string]string{
		"user-data":             "USER_DATA.;1",
		"network-config":        "NETWORK_CONFIG.;1",
		"vendor.data.gz":        "VENDOR_DATA.GZ;1",
		"README":                "README.;1",
		strings.Repeat("a", 40): strings.Repeat("A", 30) + ";1",
	}
	for in, want := range tests {
		if got := primaryName(in); got != want {
			t.Errorf("primaryName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuildISORejects(t *testing.T) {
	tests := []struct {
		name   string
		volume string
		files  []isoFile
	}{
		{"empty label", "", nil},
		{"long label", "a-label-of-seventeen", nil},
		{"slash", "cidata", []isoFile{{"a/b", nil}}},
		{"semicolon", "cidata", []isoFile{{"a;1", nil}}},
		{"empty name", "cidata", []isoFile{{"", nil}}},
		{"same primary name", "cidata", []isoFile{{"user-data", nil}, {"user_data", nil}}},
		{"too many files", "cidata", manyFiles(60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := buildISO(tt.volume, tt.files, time.Unix(0, 0)); err == nil {
				t.Fatal("buildISO succeeded")
			}
		})
	}
}

func manyFiles(n int) []isoFile {
	var files []isoFile
	for i := range n {
		files = append(files, isoFile{fmt.Sprintf("file-number-%03d", i), nil})
	}
	return files
}

func FuzzSeedISO(f *testing.F) {
	f.Add(testSeed.UserData, testSeed.MetaData, testSeed.NetworkConfig)
	f.Add([]byte{}, []byte{}, []byte(nil))
	f.Fuzz(func(t *testing.T, user, meta, network []byte) {
		s := Seed{UserData: user, MetaData: meta, NetworkConfig: network}
		img, err := s.ISO()
		if err != nil {
			t.Fatal(err)
		}
		v, err := readISO(img)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range s.files() {
			if !bytes.Equal(v.joliet[f.name], f.data) {
				t.Fatalf("%s did not round-trip", f.name)
			}
		}
	})
}
