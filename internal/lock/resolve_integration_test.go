package lock

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/apt"
	"github.com/bakery-dev/bakery/internal/runner"
)

// TestIntegrationResolve resolves a small package set against the real
// Debian mirror with apt and gpgv.
func TestIntegrationResolve(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the Debian mirror, apt-get and gpgv")
	}
	if err := runner.Require("apt-get", "gpgv"); err != nil {
		t.Skip(err)
	}
	start := time.Now()
	l, err := Resolve(context.Background(), Options{
		Inputs: Inputs{Distro: "debian", Release: "bookworm", Arch: "amd64", Kernel: "linux-image-cloud-amd64",
			BasePackages: []string{"systemd-sysv"}, Packages: []string{"curl"}},
		Mirror: apt.DefaultMirror, SecurityMirror: apt.DefaultSecurity, WorkDir: t.TempDir(),
		Tools: map[string]string{"mmdebstrap": "mmdebstrap 1.3.5"}, Runner: runner.Exec{},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resolved %d packages in %s", len(l.Packages), time.Since(start).Round(time.Millisecond))
	names := map[string]Package{}
	for _, p := range l.Packages {
		names[p.Name] = p
	}
	for _, want := range []string{"apt", "base-files", "dpkg", "libc6", "curl", "systemd", "systemd-sysv", "linux-image-cloud-amd64"} {
		if _, ok := names[want]; !ok {
			t.Errorf("%s missing from the closure", want)
		}
	}
	if len(l.Suites) != 3 || l.Suites[2].Name != "bookworm-security" || l.Suites[2].InReleaseSHA256 == "" {
		t.Errorf("suites %+v", l.Suites)
	}
	if _, err := l.SourceDateEpoch(); err != nil {
		t.Error(err)
	}
	b, _ := l.Encode()
	if os.Getenv("BAKERY_DUMP_LOCK") != "" {
		os.WriteFile(os.Getenv("BAKERY_DUMP_LOCK"), b, 0o644)
	}
}
