package apt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

const sampleRelease = `Origin: Debian
Label: Debian
Suite: oldstable-updates
Version: 12-updates
Codename: bookworm-updates
Date: Mon, 30 Nov 2026 02:21:41 UTC
Valid-Until: Mon, 7 Dec 2026 02:21:41 UTC
Architectures: all amd64 arm64
Components: main contrib
Description: Debian 12 - Updates
SHA256:
 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855        0 contrib/Contents-all
 f61f27bd17de546264aa58f40f3aafaac7021e0ef69c17f6b1b4cd7664a037ec       20 main/binary-amd64/Packages.xz
`

func TestParseRelease(t *testing.T) {
	r, err := ParseRelease([]byte(sampleRelease))
	if err != nil {
		t.Fatal(err)
	}
	if r.Suite != "oldstable-updates" || r.Codename != "bookworm-updates" || r.Origin != "Debian" {
		t.Errorf("names: %+v", r)
	}
	if want := time.Date(2026, 11, 30, 2, 21, 41, 0, time.UTC); !r.Date.Equal(want) {
		t.Errorf("Date %v, want %v", r.Date, want)
	}
	if want := time.Date(2026, 12, 7, 2, 21, 41, 0, time.UTC); !r.ValidUntil.Equal(want) {
		t.Errorf("Valid-Until %v, want %v", r.ValidUntil, want)
	}
	if strings.Join(r.Components, ",") != "main,contrib" || len(r.Architectures) != 3 {
		t.Errorf("components %v architectures %v", r.Components, r.Architectures)
	}
	f, ok := r.File("main/binary-amd64/Packages.xz")
	if !ok || f.Size != 20 || f.SHA256 != "f61f27bd17de546264aa58f40f3aafaac7021e0ef69c17f6b1b4cd7664a037ec" {
		t.Errorf("File = %+v, %v", f, ok)
	}
}

func TestParseReleaseErrors(t *testing.T) {
	tests := map[string]string{
		"no suite":        "Date: Mon, 30 Nov 2026 02:21:41 UTC\n",
		"bad date":        "Suite: x\nDate: yesterday\n",
		"no date":         "Suite: x\n",
		"short checksum":  "Suite: x\nDate: Mon, 30 Nov 2026 02:21:41 UTC\nSHA256:\n abc 1 main/x\n",
		"bad size":        "Suite: x\nDate: Mon, 30 Nov 2026 02:21:41 UTC\nSHA256:\n e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 -1 x\n",
		"two paragraphs":  "Suite: x\n\nSuite: y\n",
		"not deb822":      "hello\n",
		"bad valid-until": "Suite: x\nDate: Mon, 30 Nov 2026 02:21:41 UTC\nValid-Until: soon\n",
	}
	for name, in := range tests {
		if _, err := ParseRelease([]byte(in)); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: err %v, want ErrSyntax", name, err)
		}
	}
}

func TestGpgvArgs(t *testing.T) {
	got := strings.Join(GpgvArgs("/k.gpg", "/lists/InRelease"), " ")
	if want := "gpgv --quiet --keyring /k.gpg --output - /lists/InRelease"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestVerifyInReleaseFailure(t *testing.T) {
	rec := &runner.Recorder{Errs: map[string]error{"gpgv": &runner.Error{Cmd: "gpgv", ExitCode: 2}}}
	_, err := VerifyInRelease(context.Background(), rec, "/k", "/f")
	if !errors.Is(err, ErrBadSignature) {
		t.Errorf("err %v, want ErrBadSignature", err)
	}
}

// TestIntegrationVerifyInRelease checks a real Debian security InRelease
// with the host's gpgv and the Debian keyring, and that one changed byte
// makes it fail.
func TestIntegrationVerifyInRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gpgv")
	}
	if err := runner.Require("gpgv"); err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(DebianKeyring); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	good := "testdata/repo/bookworm-security.InRelease"
	body, err := VerifyInRelease(ctx, runner.Exec{}, DebianKeyring, good)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRelease(body)
	if err != nil {
		t.Fatal(err)
	}
	if r.Codename != "bookworm-security" || r.Date.IsZero() || len(r.SHA256) == 0 {
		t.Errorf("parsed %+v", r)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "InRelease")
	tampered := strings.Replace(string(data), "Codename: bookworm-security", "Codename: bookworm-securitx", 1)
	if err := os.WriteFile(bad, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyInRelease(ctx, runner.Exec{}, DebianKeyring, bad); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered file: err %v, want ErrBadSignature", err)
	}
}

func FuzzParseRelease(f *testing.F) {
	f.Add([]byte(sampleRelease))
	f.Add([]byte("Suite: x\nDate: Mon, 30 Nov 2026 02:21:41 UTC\nSHA256:\n e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 1 a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRelease(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if r.Suite == "" && r.Codename == "" || r.Date.IsZero() {
			t.Fatalf("accepted a Release without suite or date: %+v", r)
		}
		for _, f := range r.SHA256 {
			if !isHex(f.SHA256, 64) || f.Size < 0 || f.Path == "" {
				t.Fatalf("bad entry %+v", f)
			}
		}
	})
}
