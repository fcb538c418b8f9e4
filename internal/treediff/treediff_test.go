package treediff

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"time"
)

var epoch = time.Date(2026, 11, 14, 9, 12, 0, 0, time.UTC)

// file is one entry of a test tarball.
type file struct {
	name, body, link string
	flag             byte
	mode             int64
	uid              int
	mtime            time.Time
	xattrs           map[string]string
}

func tarball(t *testing.T, files []file) []byte {
	t.Helper()
	data, err := makeTar(files)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func makeTar(files []file) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(header(f)); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			return nil, err
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

func header(f file) *tar.Header {
	hdr := &tar.Header{Name: f.name, Typeflag: f.flag, Mode: f.mode, Uid: f.uid, Linkname: f.link, ModTime: f.mtime, Format: tar.FormatPAX}
	if hdr.Typeflag == 0 {
		hdr.Typeflag = tar.TypeReg
	}
	if hdr.Mode == 0 {
		hdr.Mode = 0o644
	}
	if hdr.ModTime.IsZero() {
		hdr.ModTime = epoch
	}
	if hdr.Typeflag == tar.TypeReg {
		hdr.Size = int64(len(f.body))
	}
	for k, v := range f.xattrs {
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+k] = v
	}
	return hdr
}

func read(t *testing.T, files []file) Tree {
	t.Helper()
	tree, err := Read(bytes.NewReader(tarball(t, files)))
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func base() []file {
	return []file{
		{name: "./", flag: tar.TypeDir, mode: 0o755},
		{name: "./etc/", flag: tar.TypeDir, mode: 0o755},
		{name: "./etc/hostname", body: "debian\n"},
		{name: "./etc/shadow", body: "root:*:\n", mode: 0o640, uid: 0},
		{name: "./usr/bin/ping", body: "ELF", mode: 0o755, xattrs: map[string]string{"security.capability": "\x01\x00"}},
		{name: "./vmlinuz", flag: tar.TypeSymlink, link: "boot/vmlinuz-6.1"},
		{name: "./usr/bin/view", flag: tar.TypeLink, link: "./usr/bin/vi"},
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		change func([]file) []file
		want   []Difference
	}{
		{"identical", func(f []file) []file { return f }, nil},
		{"content", func(f []file) []file { f[2].body = "ubuntu\n"; return f },
			[]Difference{{Path: "/etc/hostname", Change: Changed, Fields: []string{"content"}}}},
		{"size and content", func(f []file) []file { f[2].body = "debian-12\n"; return f },
			[]Difference{{Path: "/etc/hostname", Change: Changed, Fields: []string{"size", "content"}}}},
		{"mode", func(f []file) []file { f[3].mode = 0o644; return f },
			[]Difference{{Path: "/etc/shadow", Change: Changed, Fields: []string{"mode"}}}},
		{"owner", func(f []file) []file { f[3].uid = 42; return f },
			[]Difference{{Path: "/etc/shadow", Change: Changed, Fields: []string{"owner"}}}},
		{"mtime", func(f []file) []file { f[1].mtime = epoch.Add(time.Second); return f },
			[]Difference{{Path: "/etc", Change: Changed, Fields: []string{"mtime"}}}},
		{"symlink target", func(f []file) []file { f[5].link = "boot/vmlinuz-6.2"; return f },
			[]Difference{{Path: "/vmlinuz", Change: Changed, Fields: []string{"link"}}}},
		{"xattr", func(f []file) []file { f[4].xattrs = nil; return f },
			[]Difference{{Path: "/usr/bin/ping", Change: Changed, Fields: []string{"xattrs"}}}},
		{"type", func(f []file) []file {
			f[2] = file{name: "./etc/hostname", flag: tar.TypeSymlink, link: "debian\n"}
			return f
		},
			[]Difference{{Path: "/etc/hostname", Change: Changed, Fields: []string{"type", "size", "content", "link"}}}},
		{"added and removed, sorted", func(f []file) []file {
			return append(f[:2:2], append(f[3:], file{name: "./etc/machine-id", body: "x"}, file{name: "./a", body: "y"})...)
		}, []Difference{{Path: "/a", Change: Added}, {Path: "/etc/hostname", Change: Removed}, {Path: "/etc/machine-id", Change: Added}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := read(t, base())
			b := read(t, tt.change(base()))
			if got := Compare(a, b); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadEntries(t *testing.T) {
	tree := read(t, base())
	if len(tree) != 7 {
		t.Fatalf("%d entries, want 7: %v", len(tree), tree)
	}
	root, ok := tree["/"]
	if !ok || root.Type != "dir" || root.Mode != 0o755 {
		t.Errorf("root = %+v", root)
	}
	host := tree["/etc/hostname"]
	if host.Type != "file" || host.Size != 7 || host.SHA256 != sha256hex("debian\n") {
		t.Errorf("hostname = %+v", host)
	}
	if l := tree["/usr/bin/view"]; l.Type != "hardlink" || l.Linkname != "/usr/bin/vi" {
		t.Errorf("hard link = %+v", l)
	}
	if p := tree["/usr/bin/ping"]; p.Xattrs != "security.capability=\x01\x00" {
		t.Errorf("xattrs = %q", p.Xattrs)
	}
}

func TestReadDuplicate(t *testing.T) {
	_, err := Read(bytes.NewReader(tarball(t, []file{{name: "./a", body: "1"}, {name: "a", body: "2"}})))
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("Read = %v, want ErrDuplicate", err)
	}
}

func TestReadTruncated(t *testing.T) {
	data := tarball(t, base())
	if _, err := Read(bytes.NewReader(data[:700])); err == nil {
		t.Error("a truncated tarball was read without error")
	}
}

func TestDifferenceString(t *testing.T) {
	for d, want := range map[*Difference]string{
		{Path: "/etc/a", Change: Changed, Fields: []string{"mode", "content"}}: "/etc/a: mode, content differ",
		{Path: "/etc/b", Change: Added}:                                        "/etc/b: added",
	} {
		if got := d.String(); got != want {
			t.Errorf("String = %q, want %q", got, want)
		}
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	if seed, err := makeTar(base()); err == nil {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if d := Compare(tree, tree); len(d) != 0 {
			t.Fatalf("a tree differs from itself: %v", d)
		}
	})
}
