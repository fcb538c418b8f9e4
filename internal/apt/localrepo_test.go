package apt

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/bakery-dev/bakery/internal/runner"
)

func testRepo(t *testing.T) (Repo, *Signer) {
	t.Helper()
	signer, err := LoadOrCreateSigner(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(t.TempDir(), "a.deb")
	if err := os.WriteFile(deb, []byte("deb"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := testInput("deb", "a")
	ctl := Paragraph{Fields: []Field{{Name: "Package", Value: "a"}, {Name: "Version", Value: "1.0"}, {Name: "Architecture", Value: "all"},
		{Name: "Description", Value: "short\nlong\n.\nmore"}, {Name: "Size", Value: "999"}}}
	return Repo{Dir: filepath.Join(t.TempDir(), "repo"), Suite: "bookworm", Component: "main", Arch: "amd64",
		Date:     time.Date(2026, 11, 30, 2, 21, 41, 0, time.UTC),
		Packages: []RepoPackage{{Control: ctl, Path: deb, SHA256: in.SHA256, Size: in.Size}}}, signer
}

func TestRepoWrite(t *testing.T) {
	repo, signer := testRepo(t)
	if err := repo.Write(signer); err != nil {
		t.Fatal(err)
	}
	sha := repo.Packages[0].SHA256
	index, err := os.ReadFile(filepath.Join(repo.Dir, "dists/bookworm/main/binary-amd64/Packages"))
	if err != nil {
		t.Fatal(err)
	}
	want := "Package: a\nVersion: 1.0\nArchitecture: all\nDescription: short\n long\n .\n more\n" +
		"Filename: pool/" + sha[:2] + "/" + sha + ".deb\nSize: 3\nSHA256: " + sha + "\n\n"
	if string(index) != want {
		t.Errorf("Packages\n%s\nwant\n%s", index, want)
	}
	if data, err := os.ReadFile(filepath.Join(repo.Dir, "pool", sha[:2], sha+".deb")); err != nil || string(data) != "deb" {
		t.Errorf("pool file: %q %v", data, err)
	}
	pkgs, err := ParsePackages(bytes.NewReader(index))
	if err != nil || len(pkgs) != 1 || pkgs[0].Size != 3 {
		t.Errorf("index does not parse back: %+v %v", pkgs, err)
	}
	inrel, err := os.ReadFile(filepath.Join(repo.Dir, "dists/bookworm/InRelease"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := clearsign.Decode(inrel)
	if block == nil {
		t.Fatal("InRelease is not clearsigned")
	}
	kf, _ := os.Open(signer.Keyring())
	defer kf.Close()
	ring, err := openpgp.ReadKeyRing(kf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := block.VerifySignature(ring, nil); err != nil {
		t.Errorf("signature: %v", err)
	}
	rel, err := ParseRelease(block.Plaintext)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := rel.File("main/binary-amd64/Packages")
	if !ok || f.Size != int64(len(index)) || !rel.Date.Equal(repo.Date) || rel.Codename != "bookworm" {
		t.Errorf("release %+v", rel)
	}
	if got := repo.Source("/k.gpg"); got != "deb [signed-by=/k.gpg] copy://"+repo.Dir+" bookworm main" {
		t.Errorf("source %s", got)
	}
}

func TestSignerKeptAcrossLoads(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fingerprint() != b.Fingerprint() || len(a.Fingerprint()) != 40 {
		t.Errorf("fingerprints %s %s", a.Fingerprint(), b.Fingerprint())
	}
	fi, err := os.Stat(filepath.Join(dir, signerPrivateFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v %v", fi.Mode(), err)
	}
}

// TestIntegrationRepoGpgv checks that gpgv (what apt uses) accepts the
// local repository's signature.
func TestIntegrationRepoGpgv(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gpgv")
	}
	if err := runner.Require("gpgv"); err != nil {
		t.Skip(err)
	}
	repo, signer := testRepo(t)
	if err := repo.Write(signer); err != nil {
		t.Fatal(err)
	}
	body, err := VerifyInRelease(context.Background(), runner.Exec{}, signer.Keyring(), filepath.Join(repo.Dir, "dists/bookworm/InRelease"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "Codename: bookworm\n") {
		t.Errorf("signed text %s", body)
	}
}
