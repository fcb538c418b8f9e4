package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/artifact"
	"github.com/bakery-dev/bakery/internal/artifact/fsstore"
	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/catalog/sqlite"
	"github.com/bakery-dev/bakery/internal/progress"
	"github.com/bakery-dev/bakery/internal/runner"
	"github.com/bakery-dev/bakery/internal/treediff"
)

// catRunner stands in for `zstd -dc`: it copies standard input to standard
// output (the test tarballs are not compressed), or fails with err.
type catRunner struct {
	argv []string
	err  error
}

func (c *catRunner) Run(_ context.Context, cmd runner.Cmd) ([]byte, error) {
	c.argv = cmd.Args
	if c.err != nil {
		return nil, c.err
	}
	_, err := io.Copy(cmd.Stdout, cmd.Stdin)
	return nil, err
}

func testTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"./etc/hostname", "./etc/os-release", "./usr/bin/true"} {
		body, ok := files[name]
		if !ok {
			continue
		}
		hdr := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1763111520, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stored puts data in the store and returns its artifact record.
func stored(t *testing.T, st artifact.Store, kind, name string, data []byte) catalog.Artifact {
	t.Helper()
	d := digestOf(data)
	if err := st.Put(context.Background(), d, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return catalog.Artifact{Kind: kind, Filename: name, Digest: d, Size: int64(len(data))}
}

// rebuiltWorkspace is a workspace holding the files of a "rebuild".
func rebuiltWorkspace(t *testing.T, r runner.Runner, outputs map[string][]byte) *Workspace {
	t.Helper()
	ws := &Workspace{Dir: t.TempDir(), Runner: r, Logger: slog.New(slog.DiscardHandler), Progress: progress.Discard}
	for _, kind := range []string{catalog.KindRootfsTar, catalog.KindRaw, catalog.KindQcow2} {
		data, ok := outputs[kind]
		if !ok {
			continue
		}
		path := filepath.Join(ws.Dir, kind)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ws.AddOutput(kind, kind, path)
	}
	return ws
}

func TestCompare(t *testing.T) {
	tree := map[string]string{"./etc/hostname": "debian\n", "./etc/os-release": "ID=debian\n", "./usr/bin/true": "ELF"}
	changed := map[string]string{"./etc/hostname": "debian\n", "./etc/os-release": "ID=debian\nX=1\n"}
	recordedTar, changedTar := testTar(t, tree), testTar(t, changed)
	tests := []struct {
		name      string
		rebuilt   map[string][]byte
		identical bool
		diffs     []treediff.Difference
	}{
		{"identical", map[string][]byte{"rootfs-tar": recordedTar, "raw": []byte("raw"), "qcow2": []byte("qcow2")}, true, nil},
		{"qcow2 differs, tarball same", map[string][]byte{"rootfs-tar": recordedTar, "raw": []byte("raw"), "qcow2": []byte("QCOW2")}, false, nil},
		{"tree differs", map[string][]byte{"rootfs-tar": changedTar, "raw": []byte("raw2"), "qcow2": []byte("qcow2")}, false, []treediff.Difference{
			{Path: "/etc/os-release", Change: treediff.Changed, Fields: []string{"size", "content"}},
			{Path: "/usr/bin/true", Change: treediff.Removed},
		}},
		{"output missing", map[string][]byte{"rootfs-tar": recordedTar, "raw": []byte("raw")}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := fsstore.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			img := catalog.Image{Name: "img", BuildID: "sha256:" + strings.Repeat("b", 64), Artifacts: []catalog.Artifact{
				stored(t, st, catalog.KindRootfsTar, "img.rootfs.tar.zst", recordedTar),
				stored(t, st, catalog.KindRaw, "img.raw", []byte("raw")),
				stored(t, st, catalog.KindQcow2, "img.qcow2", []byte("qcow2")),
				stored(t, st, catalog.KindManifest, "img.manifest.json", []byte("{}")),
			}}
			run := &catRunner{}
			ws := rebuiltWorkspace(t, run, tt.rebuilt)
			rep := VerifyReport{}
			if err := compare(context.Background(), ws, Options{Store: st}, img, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Identical != tt.identical || len(rep.Outputs) != 3 {
				t.Errorf("identical %v with %d outputs, want %v with 3: %+v", rep.Identical, len(rep.Outputs), tt.identical, rep.Outputs)
			}
			if got, want := len(rep.Differences), len(tt.diffs); got != want || rep.TreeCompared != (want > 0) || rep.DifferentFiles != want {
				t.Fatalf("differences %+v (compared %v, %d), want %+v", rep.Differences, rep.TreeCompared, rep.DifferentFiles, tt.diffs)
			}
			for i, d := range tt.diffs {
				if rep.Differences[i].String() != d.String() {
					t.Errorf("difference %d = %s, want %s", i, rep.Differences[i], d)
				}
			}
			if tt.diffs != nil && strings.Join(run.argv, " ") != "zstd -dc" {
				t.Errorf("decompressed with %v", run.argv)
			}
		})
	}
}

func TestCompareLimitsDifferences(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := range 25 {
		name := "./f" + string(rune('a'+i))
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	st, _ := fsstore.New(t.TempDir())
	empty := testTar(t, nil)
	img := catalog.Image{Name: "img", Artifacts: []catalog.Artifact{stored(t, st, catalog.KindRootfsTar, "t", empty)}}
	ws := rebuiltWorkspace(t, &catRunner{}, map[string][]byte{"rootfs-tar": buf.Bytes()})
	var rep VerifyReport
	if err := compare(context.Background(), ws, Options{Store: st}, img, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.DifferentFiles != 25 || len(rep.Differences) != MaxDifferences || rep.Differences[0].Path != "/fa" {
		t.Errorf("%d different, %d named (%v), want 25 and the first %d", rep.DifferentFiles, len(rep.Differences), rep.Differences, MaxDifferences)
	}
}

func TestReadTarballDecompressorFails(t *testing.T) {
	boom := errors.New("zstd: unknown header")
	_, err := readTarball(context.Background(), &catRunner{err: boom}, strings.NewReader("x"))
	if !errors.Is(err, boom) {
		t.Errorf("err %v, want the decompressor's", err)
	}
}

func TestReusable(t *testing.T) {
	ctx := context.Background()
	cat, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	st, _ := fsstore.New(t.TempDir())
	p := lockedParams(t, "")
	img := catalog.Image{Name: "old", Product: "debian-cloud", Serial: "2026113001", BuildID: p.Identity.BuildID, CreatedAt: time.Now(),
		Artifacts: []catalog.Artifact{stored(t, st, catalog.KindQcow2, "old.qcow2", []byte("qcow2"))}}
	if err := cat.AddImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	lost := img
	lost.Name, lost.Serial, lost.CreatedAt = "lost", "2026113002", img.CreatedAt.Add(time.Hour) // newer, but its qcow2 is gone
	lost.Artifacts = []catalog.Artifact{{Kind: catalog.KindQcow2, Filename: "lost.qcow2", Digest: digestOf([]byte("gone")), Size: 4}}
	if err := cat.AddImage(ctx, lost); err != nil {
		t.Fatal(err)
	}
	unlocked := p
	unlocked.Lock = nil
	other := p
	other.Identity.BuildID = "sha256:" + strings.Repeat("0", 64)
	tests := []struct {
		name string
		p    Params
		want string
	}{
		{"same build ID", p, "old"},
		{"unlocked", unlocked, ""},
		{"other build ID", other, ""},
	}
	for _, tt := range tests {
		got, ok, err := Reusable(ctx, cat, st, tt.p)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (tt.want != "") || got.Name != tt.want {
			t.Errorf("%s: Reusable = %q %v, want %q", tt.name, got.Name, ok, tt.want)
		}
	}
}

func digestOf(data []byte) string {
	d, _, err := artifact.Digest(bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	return d
}
