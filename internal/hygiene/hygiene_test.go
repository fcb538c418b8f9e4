package hygiene

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

const lockedShadow = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"

// golden builds a tree that passes every rule, with files no rule concerns.
func golden(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, "etc/machine-id", "", 0o444)
	write(t, root, "etc/shadow", lockedShadow, 0o640)
	write(t, root, "etc/hostname", "localhost\n", 0o644)
	write(t, root, "etc/ssh/sshd_config", "PermitRootLogin no\n", 0o644)
	write(t, root, "etc/ssl/certs/ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0o644)
	write(t, root, "var/lib/apt/lists/lock", "", 0o640)
	mkdir(t, root, "var/lib/apt/lists/partial")
	mkdir(t, root, "var/lib/apt/lists/auxfiles")
	mkdir(t, root, "var/cache/apt/archives/partial")
	write(t, root, "var/cache/apt/archives/lock", "", 0o640)
	write(t, root, "var/log/wtmp", "", 0o664)
	write(t, root, "var/log/apt/history.log", "", 0o644)
	mkdir(t, root, "var/log/journal")
	write(t, root, "var/lib/dpkg/status", "Package: base-files\n", 0o644)
	write(t, root, "root/.profile", "# ~/.profile\n", 0o644)
	write(t, root, "home/alice/.bashrc", "alias ll='ls -l'\n", 0o644)
	write(t, root, "home/alice/.ssh/authorized_keys", "ssh-ed25519 AAAA alice\n", 0o600)
	mkdir(t, root, "tmp")
	mkdir(t, root, "var/tmp")
	mkdir(t, root, "var/lib/cloud")
	symlink(t, root, "/etc/machine-id", "var/lib/dbus/machine-id")
	return root
}

func write(t *testing.T, root, name, content string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, root, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, root, target, name string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

const pemKey = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA\n-----END PRIVATE KEY-----\n"

var offences = []struct {
	rule  string
	make  func(t *testing.T, root string)
	found []string
}{
	{"ssh-host-keys", func(t *testing.T, r string) {
		write(t, r, "etc/ssh/ssh_host_ed25519_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0o600)
		write(t, r, "etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA root@build\n", 0o644)
		write(t, r, "etc/ssh/ssh_host_rsa_key", "x", 0o600)
	}, []string{"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/ssh/ssh_host_rsa_key"}},
	{"machine-id", func(t *testing.T, r string) {
		write(t, r, "etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444)
	}, []string{"/etc/machine-id"}},
	{"machine-id", func(t *testing.T, r string) {
		os.Remove(filepath.Join(r, "etc/machine-id"))
	}, []string{"/etc/machine-id"}},
	{"machine-id", func(t *testing.T, r string) {
		os.Remove(filepath.Join(r, "var/lib/dbus/machine-id"))
		write(t, r, "var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n", 0o444)
	}, []string{"/var/lib/dbus/machine-id"}},
	{"machine-id", func(t *testing.T, r string) {
		os.Remove(filepath.Join(r, "var/lib/dbus/machine-id"))
		symlink(t, r, "/etc/hostname", "var/lib/dbus/machine-id")
	}, []string{"/var/lib/dbus/machine-id"}},
	{"apt-lists", func(t *testing.T, r string) {
		write(t, r, "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "x", 0o644)
		write(t, r, "var/lib/apt/lists/partial/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.xz", "x", 0o644)
	}, []string{"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
		"/var/lib/apt/lists/partial/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.xz"}},
	{"apt-cache", func(t *testing.T, r string) {
		write(t, r, "var/cache/apt/archives/curl_7.88.1-10_amd64.deb", "x", 0o644)
		write(t, r, "var/cache/apt/pkgcache.bin", "x", 0o644)
		write(t, r, "var/cache/apt/srcpkgcache.bin", "x", 0o644)
	}, []string{"/var/cache/apt/archives/curl_7.88.1-10_amd64.deb", "/var/cache/apt/pkgcache.bin", "/var/cache/apt/srcpkgcache.bin"}},
	{"logs", func(t *testing.T, r string) {
		write(t, r, "var/log/dpkg.log", "2024-01-01 status installed\n", 0o644)
		write(t, r, "var/log/dpkg.log.1", "", 0o644)
		write(t, r, "var/log/apt/term.log.2.gz", "x", 0o644)
		write(t, r, "var/log/journal/0123456789abcdef/system.journal", "x", 0o640)
	}, []string{"/var/log/apt/term.log.2.gz", "/var/log/dpkg.log", "/var/log/dpkg.log.1", "/var/log/journal/0123456789abcdef"}},
	{"shell-history", func(t *testing.T, r string) {
		write(t, r, "root/.bash_history", "ls\n", 0o600)
		write(t, r, "root/.lesshst", "x", 0o600)
		write(t, r, "home/alice/.bash_history", "ls\n", 0o600)
		write(t, r, "home/alice/.viminfo", "x", 0o600)
		write(t, r, "home/alice/.python_history", "x", 0o600)
	}, []string{"/home/alice/.bash_history", "/home/alice/.python_history", "/home/alice/.viminfo", "/root/.bash_history", "/root/.lesshst"}},
	{"random-seed", func(t *testing.T, r string) {
		write(t, r, "var/lib/systemd/random-seed", "x", 0o600)
		write(t, r, "var/lib/urandom/random-seed", "x", 0o600)
	}, []string{"/var/lib/systemd/random-seed", "/var/lib/urandom/random-seed"}},
	{"root-password", func(t *testing.T, r string) {
		write(t, r, "etc/shadow", "root:$6$salt$hash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n", 0o640)
	}, []string{"/etc/shadow"}},
	{"root-password", func(t *testing.T, r string) {
		write(t, r, "etc/shadow", "root::19000:0:99999:7:::\n", 0o640)
		write(t, r, "etc/shadow-", "root:$y$j9T$hash:19000:0:99999:7:::\n", 0o640)
	}, []string{"/etc/shadow", "/etc/shadow-"}},
	{"cloud-init-state", func(t *testing.T, r string) {
		write(t, r, "var/lib/cloud/instance/boot-finished", "x", 0o644)
		symlink(t, r, "/var/lib/cloud/instances/i-1", "var/lib/cloud/instance-link")
	}, []string{"/var/lib/cloud/instance", "/var/lib/cloud/instance-link"}},
	{"tmp", func(t *testing.T, r string) {
		write(t, r, "tmp/build.log", "x", 0o644)
		mkdir(t, r, "tmp/.X11-unix")
		write(t, r, "var/tmp/systemd-private-1/x", "x", 0o644)
	}, []string{"/tmp/.X11-unix", "/tmp/build.log", "/var/tmp/systemd-private-1"}},
	{"secrets", func(t *testing.T, r string) {
		write(t, r, "root/.ssh/id_ed25519", "x", 0o600)
		write(t, r, "home/alice/.ssh/id_rsa.pub", "ssh-rsa AAAA alice\n", 0o644)
		write(t, r, "home/alice/deploy/key.pem", "Bag Attributes\n"+pemKey, 0o600)
		write(t, r, "etc/ssl/private/ssl-cert-snakeoil.key", "x", 0o640)
		write(t, r, "etc/app/tls.pem", pemKey, 0o600)
	}, []string{"/etc/app/tls.pem", "/etc/ssl/private/ssl-cert-snakeoil.key", "/home/alice/.ssh/id_rsa.pub", "/home/alice/deploy/key.pem", "/root/.ssh/id_ed25519"}},
	{"dpkg-backup", func(t *testing.T, r string) {
		write(t, r, "var/lib/dpkg/status-old", "x", 0o644)
		write(t, r, "var/lib/dpkg/diversions-old", "x", 0o644)
		write(t, r, "var/cache/debconf/config.dat-old", "x", 0o644)
	}, []string{"/var/cache/debconf/config.dat-old", "/var/lib/dpkg/diversions-old", "/var/lib/dpkg/status-old"}},
}

func TestGoldenTreePasses(t *testing.T) {
	report := Check(golden(t))
	if !report.Passed() {
		t.Fatalf("golden tree fails: %+v", report.Failed())
	}
	if got := len(report); got != len(Rules()) {
		t.Fatalf("report has %d results, want one per rule (%d)", got, len(Rules()))
	}
}

func TestCheckFindsAndCleanFixesEachOffence(t *testing.T) {
	for _, o := range offences {
		t.Run(o.rule, func(t *testing.T) {
			root := golden(t)
			o.make(t, root)
			before := snapshot(t, root)

			res := resultFor(t, Check(root), o.rule)
			if res.Passed || !slices.Equal(res.Found, o.found) {
				t.Fatalf("Check %s = %+v, want failed with %q", o.rule, res, o.found)
			}
			if failed := Check(root).Failed(); len(failed) != 1 {
				t.Errorf("other rules fail too: %+v", failed)
			}
			if err := Clean(root); err != nil {
				t.Fatalf("Clean: %v", err)
			}
			if r := Check(root); !r.Passed() {
				t.Fatalf("after Clean: %+v", r.Failed())
			}
			assertOnlyChanged(t, before, snapshot(t, root), o.found)

			once := snapshot(t, root)
			if err := Clean(root); err != nil {
				t.Fatalf("second Clean: %v", err)
			}
			if again := snapshot(t, root); !maps.Equal(once, again) {
				t.Errorf("Clean is not idempotent:\n%v\n%v", once, again)
			}
		})
	}
}

func resultFor(t *testing.T, r Report, rule string) Result {
	t.Helper()
	for _, res := range r {
		if res.Rule == rule {
			return res
		}
	}
	t.Fatalf("no result for rule %s in %+v", rule, r)
	return Result{}
}

// snapshot maps each path in the tree (without following links) to its
// type, mode, and content or link target.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		desc := fi.Mode().String()
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case d.Type().IsRegular():
			data, _ := os.ReadFile(p)
			desc += " " + string(data)
		}
		snap["/"+filepath.ToSlash(rel)] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// assertOnlyChanged fails when Clean touched a path that is neither an
// offence nor below one.
func assertOnlyChanged(t *testing.T, before, after map[string]string, offences []string) {
	t.Helper()
	concerned := func(p string) bool {
		for _, o := range offences {
			if p == o || strings.HasPrefix(p, o+"/") {
				return true
			}
		}
		return false
	}
	for p, desc := range before {
		if concerned(p) {
			continue
		}
		if after[p] != desc {
			t.Errorf("unrelated %s changed: %q -> %q", p, desc, after[p])
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && !concerned(p) {
			t.Errorf("Clean created unrelated %s", p)
		}
	}
}

func TestCleanTruncatesLogsInPlace(t *testing.T) {
	root := golden(t)
	write(t, root, "var/log/syslog", "lots of lines\n", 0o640)
	if err := Clean(root); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(root, "var/log/syslog"))
	if err != nil {
		t.Fatalf("live log removed instead of truncated: %v", err)
	}
	if fi.Size() != 0 || fi.Mode().Perm() != 0o640 {
		t.Errorf("syslog: size %d mode %v, want 0 and -rw-r-----", fi.Size(), fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(root, "var/log/journal")); err != nil {
		t.Errorf("journal directory itself removed: %v", err)
	}
}

func TestCleanLocksRootKeepingLineModeAndOwner(t *testing.T) {
	root := golden(t)
	shadow := filepath.Join(root, "etc/shadow")
	write(t, root, "etc/shadow", "daemon:*:1:0:99999:7:::\nroot:$6$salt$hash:19000:0:99999:7:::\nrootless:x:1:::::\n", 0o640)
	wantUID, wantGID := os.Getuid(), os.Getgid()
	if os.Getuid() == 0 {
		wantUID, wantGID = 0, 42 // root:shadow, as on Debian
		if err := os.Chown(shadow, wantUID, wantGID); err != nil {
			t.Fatal(err)
		}
	}
	if err := Clean(root); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(shadow)
	if err != nil {
		t.Fatal(err)
	}
	want := "daemon:*:1:0:99999:7:::\nroot:*:19000:0:99999:7:::\nrootless:x:1:::::\n"
	if string(data) != want {
		t.Errorf("shadow = %q, want %q", data, want)
	}
	fi, err := os.Stat(shadow)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || int(st.Uid) != wantUID || int(st.Gid) != wantGID {
		t.Errorf("shadow mode %v owner %d:%d, want -rw-r----- %d:%d", fi.Mode(), st.Uid, st.Gid, wantUID, wantGID)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "etc")); len(entries) != 5 {
		t.Errorf("etc holds %d entries, want 5 (no temporary file left)", len(entries))
	}
}

func TestCleanCreatesMissingMachineIDEmpty(t *testing.T) {
	root := golden(t)
	os.Remove(filepath.Join(root, "etc/machine-id"))
	os.Remove(filepath.Join(root, "var/lib/dbus/machine-id"))
	write(t, root, "var/lib/dbus/machine-id", "0123\n", 0o444)
	if err := Clean(root); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(root, "etc/machine-id"))
	if err != nil || fi.Size() != 0 || !fi.Mode().IsRegular() {
		t.Fatalf("etc/machine-id: %v %v", fi, err)
	}
	target, err := os.Readlink(filepath.Join(root, "var/lib/dbus/machine-id"))
	if err != nil || target != "/etc/machine-id" {
		t.Errorf("dbus machine-id -> %q (%v), want /etc/machine-id", target, err)
	}
}

func TestRelativeDbusLinkAccepted(t *testing.T) {
	root := golden(t)
	os.Remove(filepath.Join(root, "var/lib/dbus/machine-id"))
	symlink(t, root, "../../../etc/machine-id", "var/lib/dbus/machine-id")
	if r := resultFor(t, Check(root), "machine-id"); !r.Passed {
		t.Errorf("relative link rejected: %+v", r)
	}
}

// TestLinksNeverLeaveTheTree plants links to a directory and file outside
// the tree where every rule looks; nothing outside may change.
func TestLinksNeverLeaveTheTree(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "secret.log", "precious\n", 0o644)
	write(t, outside, "dir/file", "precious\n", 0o644)
	write(t, outside, "shadow", "root:$6$x:1::::::\n", 0o640)
	write(t, outside, ".bash_history", "precious\n", 0o600)
	before := snapshot(t, outside)

	root := golden(t)
	abs := filepath.Join(outside, "secret.log")
	symlink(t, root, abs, "var/log/linked.log")
	symlink(t, root, "../../../../../../../../"+abs, "var/log/relative.log")
	symlink(t, root, filepath.Join(outside, "dir"), "var/log/journal/x")
	symlink(t, root, outside, "home/mallory")
	symlink(t, root, "../../../../../../../../"+outside, "home/eve")
	os.Remove(filepath.Join(root, "etc/shadow"))
	symlink(t, root, filepath.Join(outside, "shadow"), "etc/shadow")
	os.RemoveAll(filepath.Join(root, "var/lib/cloud"))
	symlink(t, root, filepath.Join(outside, "dir"), "var/lib/cloud")

	err := Clean(root) // may fail on the hostile links; it must not escape
	t.Logf("Clean: %v", err)
	Check(root)
	if after := snapshot(t, outside); !maps.Equal(before, after) {
		t.Fatalf("outside tree changed:\n%v\n%v", before, after)
	}
	if r := resultFor(t, Check(root), "root-password"); r.Passed {
		t.Errorf("a linked /etc/shadow passes: %+v", r)
	}
}

func TestCheckMissingTree(t *testing.T) {
	r := Check(filepath.Join(t.TempDir(), "absent"))
	if r.Passed() || len(r) != len(Rules()) {
		t.Fatalf("Check of a missing tree = %+v", r)
	}
	if err := Clean(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Fatal("Clean of a missing tree succeeded")
	}
}
