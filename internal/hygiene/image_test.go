package hygiene

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// imageGolden is golden plus files that look like secrets or open modes
// but are not offences.
func imageGolden(t *testing.T) string {
	t.Helper()
	root := golden(t)
	write(t, root, "usr/share/doc/cloud-init/examples/cloud-config-ssh-keys.txt",
		"ssh_keys:\n  rsa_private: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIBxwIBAAJhAKD0YSHy73nUgysO13XsJmd4fHiFyQ+00R7VVu2iV9Qcon2LZS/x\n    -----END RSA PRIVATE KEY-----\n", 0o644)
	write(t, root, "usr/lib/python3/dist-packages/ssh.py", "_SK_START = b\"-----BEGIN OPENSSH PRIVATE KEY-----\"\n", 0o644)
	write(t, root, "usr/bin/ssh-keygen", "\x7fELF\x00\x00-----BEGIN OPENSSH PRIVATE KEY-----\n\x00AKIAABCDEFGHIJKLMNOP\x00", 0o755)
	write(t, root, "usr/share/doc/awscli/README", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", 0o644)
	write(t, root, "usr/share/doc/x/keys.md", "the file id_rsa.pub holds the public key; ghp_ tokens are secret\n", 0o644)
	write(t, root, "etc/ssl/certs/ca-certificates.crt", "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE-----\n", 0o644)
	mkdir(t, root, "run/lock")
	chmod(t, root, "tmp", 0o1777)
	chmod(t, root, "var/tmp", 0o1777)
	chmod(t, root, "run/lock", 0o1777)
	symlink(t, root, "/run/lock", "var/lock")
	mkdir(t, root, "proc/1")
	write(t, root, "proc/1/environ", "AWS=AKIAABCDEFGHIJKLMNOP\n", 0o666) // never scanned
	return root
}

func chmod(t *testing.T, root, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(root, name), mode); err != nil {
		t.Fatal(err)
	}
}

func TestImageGoldenTreePasses(t *testing.T) {
	report := CheckImage(imageGolden(t))
	if !report.Passed() {
		t.Fatalf("golden image tree fails: %+v", report.Failed())
	}
	var rules []string
	for _, r := range report {
		rules = append(rules, r.Rule)
	}
	if !slices.Equal(rules, ImageRules()) {
		t.Errorf("CheckImage reports %v, want %v", rules, ImageRules())
	}
	if !slices.Equal(ImageRules()[:len(Rules())], Rules()) {
		t.Errorf("ImageRules %v does not start with the build's rules", ImageRules())
	}
}

const opensshKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n"

var imageOffences = []struct {
	rule   string
	make   func(t *testing.T, root string)
	found  []string
	detail string
}{
	{"private-keys", func(t *testing.T, r string) {
		write(t, r, "opt/app/server.key", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123\n\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----\n", 0o600)
	}, []string{"/opt/app/server.key"}, "PEM private key"},
	{"private-keys", func(t *testing.T, r string) {
		write(t, r, "usr/local/share/deploy/key", opensshKey, 0o600)
	}, []string{"/usr/local/share/deploy/key"}, "PEM private key"},
	{"private-keys", func(t *testing.T, r string) {
		write(t, r, "srv/backup/secring.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0AAAABCADGv3s5Qg0f1gfnB6sPMgmuhXSM8kBSNPxKvTo\n-----END PGP PRIVATE KEY BLOCK-----\n", 0o600)
	}, []string{"/srv/backup/secring.asc"}, "PEM private key"},
	{"private-keys", func(t *testing.T, r string) {
		write(t, r, "opt/ci/id_ed25519", "not even a key", 0o600)
		write(t, r, "var/lib/jenkins/.git-credentials", "https://u:p@example.org\n", 0o600)
		write(t, r, "var/lib/app/.aws/credentials", "[default]\n", 0o600)
		write(t, r, "srv/putty/admin.ppk", "PuTTY-User-Key-File-3: ssh-ed25519\n", 0o600)
	}, []string{"/opt/ci/id_ed25519", "/srv/putty/admin.ppk", "/var/lib/app/.aws/credentials", "/var/lib/jenkins/.git-credentials"}, "named like"},
	{"private-keys", func(t *testing.T, r string) {
		write(t, r, "etc/default/app", "AWS_ACCESS_KEY_ID=AKIAZ7QRSTUVWXYZ2345\n", 0o644)
		write(t, r, "usr/local/bin/deploy.sh", "curl -H 'Authorization: token ghp_0123456789abcdefghijABCDEFGHIJ012345' x\n", 0o755)
		write(t, r, "opt/bot/config.yaml", "slack: xoxb-123456789012-abcdefghijklmnop\n", 0o644)
	}, []string{"/etc/default/app", "/opt/bot/config.yaml", "/usr/local/bin/deploy.sh"}, "access token"},
	{"world-writable", func(t *testing.T, r string) {
		write(t, r, "etc/app.conf", "x", 0o666)
		mkdir(t, r, "srv/upload")
		chmod(t, r, "srv/upload", 0o777)
		write(t, r, "usr/local/bin/tool", "#!/bin/sh\n", 0o757)
	}, []string{"/etc/app.conf", "/srv/upload", "/usr/local/bin/tool"}, "temporary directories"},
}

func TestCheckImageFindsEachOffence(t *testing.T) {
	for _, o := range imageOffences {
		t.Run(o.rule+"/"+strings.TrimPrefix(o.found[0], "/"), func(t *testing.T) {
			root := imageGolden(t)
			o.make(t, root)
			report := CheckImage(root)
			res := resultFor(t, report, o.rule)
			if res.Passed || !slices.Equal(res.Found, o.found) {
				t.Fatalf("CheckImage %s = %+v, want failed with %q", o.rule, res, o.found)
			}
			if !strings.Contains(res.Detail, o.detail) {
				t.Errorf("detail %q does not say %q", res.Detail, o.detail)
			}
			if failed := report.Failed(); len(failed) != 1 {
				t.Errorf("other rules fail too: %+v", failed)
			}
			if !Check(root).Passed() && o.rule != "private-keys" {
				t.Errorf("the build's Check fails on an image-only offence: %+v", Check(root).Failed())
			}
		})
	}
}

func TestPrivateKeysLeavesHostKeysToTheirRule(t *testing.T) {
	root := imageGolden(t)
	write(t, root, "etc/ssh/ssh_host_ed25519_key", opensshKey, 0o600)
	report := CheckImage(root)
	if res := resultFor(t, report, "private-keys"); !res.Passed {
		t.Errorf("private-keys reports a host key: %+v", res)
	}
	if res := resultFor(t, report, "ssh-host-keys"); res.Passed {
		t.Errorf("ssh-host-keys passes with a host key: %+v", res)
	}
}

func TestCheckImageMissingTree(t *testing.T) {
	r := CheckImage(filepath.Join(t.TempDir(), "absent"))
	if r.Passed() || len(r) != len(ImageRules()) {
		t.Fatalf("CheckImage of a missing tree = %+v", r)
	}
}

func FuzzFindToken(f *testing.F) {
	f.Add([]byte("AKIAZ7QRSTUVWXYZ2345"))
	f.Add([]byte("xoxb-123456789012-abcdefghijklmnop"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		why := findToken(data)
		if why != "" && !strings.Contains(why, "access token") {
			t.Fatalf("findToken = %q", why)
		}
		pemPrivateKey.Match(data)
	})
}
