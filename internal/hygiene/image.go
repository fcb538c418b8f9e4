package hygiene

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// imageRules are checked on a built image's tree on top of the rules a
// build cleans (see CheckImage). They only check: what they find cannot be
// repaired blindly (a key may be wanted elsewhere, a mode may be on purpose),
// so a build that trips them must be fixed in its recipe.
var imageRules = []rule{
	{name: "private-keys", find: findPrivateKeys},
	{name: "world-writable", find: findWorldWritable},
}

// ImageRules lists the names of the rules CheckImage reports, in order:
// Rules() and then the image-only rules.
func ImageRules() []string {
	names := Rules()
	for _, r := range imageRules {
		names = append(names, r.name)
	}
	return names
}

// CheckImage inspects the root tree of a built image (extracted from its
// disk) with every rule of Check plus rules that scan the whole tree:
//   - private-keys: no PEM private key block, no file named like a private
//     key or credential store (id_rsa, .netrc, .git-credentials, …) and no
//     well-known access token (AWS, GitHub, GitLab, Slack) anywhere;
//   - world-writable: no file or directory that anyone may write to outside
//     the temporary directories.
func CheckImage(root string) Report {
	t, err := openTree(root)
	if err != nil {
		return failAllOf(append(append([]rule(nil), rules...), imageRules...), err)
	}
	defer t.close()
	var report Report
	for _, r := range append(append([]rule(nil), rules...), imageRules...) {
		report = append(report, checkRule(t, r))
	}
	return report
}

func failAllOf(rs []rule, err error) Report {
	report := make(Report, 0, len(rs))
	for _, r := range rs {
		report = append(report, Result{Rule: r.name, Detail: err.Error()})
	}
	return report
}

// skippedTrees are never scanned: kernel file systems, empty in an image.
var skippedTrees = []string{"proc", "sys", "dev"}

// walkAll calls fn for every entry of the tree but skippedTrees.
func (t tree) walkAll(fn func(name string, d fs.DirEntry) error) error {
	return t.walk(".", func(name string, d fs.DirEntry) error {
		if d.IsDir() && slices.Contains(skippedTrees, name) {
			return fs.SkipDir
		}
		return fn(name, d)
	})
}

// keyFileNames are file names that hold private keys or credentials
// whatever their content.
var keyFileNames = []string{
	"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity",
	".netrc", ".pgpass", ".git-credentials", ".vault-token", ".my.cnf",
}

// keyFilePatterns are slash-separated name patterns of credential files
// matched against the path's end.
var keyFilePatterns = []string{".aws/credentials", ".docker/config.json", ".kube/config", "*.ppk"}

// pemPrivateKey matches a PEM private key block at the start of a line
// with a body (after at most four header lines): a key someone could use. String constants in
// programs and indented examples in documentation do not match.
var pemPrivateKey = regexp.MustCompile(`(?m)^-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----\r?\n(?:.*\r?\n){0,4}?[A-Za-z0-9+/=]{16,}\r?\n`)

// tokenPatterns are access tokens with a recognisable shape, looked for in
// text files. A pattern's regular expression only runs on files that hold
// one of its literals.
var tokenPatterns = []struct {
	literals []string
	re       *regexp.Regexp
}{
	{[]string{"AKIA"}, regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`)},                                          // AWS access key ID
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36}\b`)}, // GitHub token
	{[]string{"github_pat_"}, regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{60,}\b`)},
	{[]string{"glpat-"}, regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20}\b`)},              // GitLab personal token
	{[]string{"xox"}, regexp.MustCompile(`\bxox[abposr]-[0-9]{6,}-[A-Za-z0-9-]{10,}\b`)}, // Slack token
	{[]string{"sk_live_"}, regexp.MustCompile(`\bsk_live_[A-Za-z0-9]{24,}\b`)},           // Stripe secret key
	{[]string{"AIza"}, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},                  // Google API key
}

// exampleMarker marks documented sample credentials (AKIAIOSFODNN7EXAMPLE).
var exampleMarker = []byte("EXAMPLE")

func findPrivateKeys(t tree) ([]string, string, error) {
	var found, details []string
	err := t.walkAll(func(name string, d fs.DirEntry) error {
		if !d.Type().IsRegular() || isSSHHostKey(name) {
			return nil
		}
		if why := keyFileName(name); why != "" {
			found, details = append(found, name), append(details, "/"+name+": "+why)
			return nil
		}
		why, err := t.secretContent(name, d)
		if why != "" {
			found, details = append(found, name), append(details, "/"+name+": "+why)
		}
		return err
	})
	return found, joinDetails(details), err
}

// isSSHHostKey leaves host keys to the ssh-host-keys rule.
func isSSHHostKey(name string) bool {
	ok, _ := path.Match("etc/ssh/ssh_host_*", name)
	return ok
}

func keyFileName(name string) string {
	if slices.Contains(keyFileNames, path.Base(name)) {
		return "named like a private key or credential file"
	}
	for _, p := range keyFilePatterns {
		n := strings.Count(p, "/") + 1
		parts := strings.Split(name, "/")
		if len(parts) < n {
			continue
		}
		if ok, _ := path.Match(p, strings.Join(parts[len(parts)-n:], "/")); ok {
			return "named like a credential file"
		}
	}
	return ""
}

// secretContent says what secret the file holds, or "".
func (t tree) secretContent(name string, d fs.DirEntry) (string, error) {
	fi, err := d.Info()
	if err != nil || fi.Size() > maxKeyFile || fi.Size() < 20 {
		return "", err
	}
	data, err := t.readHead(name, maxKeyFile)
	if err != nil {
		return "", err
	}
	if bytes.Contains(data, []byte("PRIVATE KEY")) && pemPrivateKey.Match(data) {
		return "holds a PEM private key", nil
	}
	if isBinary(data) {
		return "", nil
	}
	return findToken(data), nil
}

// findToken describes the first access token in data, or returns "".
func findToken(data []byte) string {
	for _, p := range tokenPatterns {
		if !containsAny(data, p.literals) {
			continue
		}
		for _, m := range p.re.FindAll(data, -1) {
			if !bytes.Contains(m, exampleMarker) {
				return "holds what looks like an access token (" + redact(m) + ")"
			}
		}
	}
	return ""
}

func containsAny(data []byte, literals []string) bool {
	for _, l := range literals {
		if bytes.Contains(data, []byte(l)) {
			return true
		}
	}
	return false
}

// isBinary reports a NUL byte in the first 8 KiB, as grep and git decide.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8<<10)], 0) >= 0
}

// redact keeps the first characters of a token, enough to find it again.
func redact(token []byte) string {
	const keep = 8
	if len(token) <= keep {
		return string(token)
	}
	return string(token[:keep]) + "…"
}

// tmpDirs may be world-writable (with their sticky bit, which debugfs
// does not keep when it extracts a tree, so it is not checked here).
var tmpDirs = []string{"tmp", "var/tmp", "run/lock", "var/lock", "dev/shm", "var/crash", "var/metrics"}

func findWorldWritable(t tree) ([]string, string, error) {
	var found []string
	err := t.walkAll(func(name string, d fs.DirEntry) error {
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // a link's own mode means nothing
		}
		if d.IsDir() && slices.Contains(tmpDirs, name) {
			return fs.SkipDir // their contents are the tmp rule's business
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o002 != 0 {
			found = append(found, name)
		}
		return nil
	})
	detail := ""
	if len(found) > 0 {
		detail = "anyone can write to these; only temporary directories may allow that"
	}
	return found, detail, err
}
