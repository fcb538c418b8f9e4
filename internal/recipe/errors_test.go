package recipe

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// wantErr is one error Parse must report: its position and part of its text.
type wantErr struct {
	line, col int
	contains  string
}

// malformed recipes, each with every error Parse must report for it.
var malformed = []struct {
	name string
	in   string
	want []wantErr
}{
	{"empty file", "", []wantErr{{1, 1, "recipe is empty"}}},
	{"only comments", "# nothing here\n", []wantErr{{1, 1, "recipe is empty"}}},
	{"only a separator", "---\n", []wantErr{{2, 1, "recipe is empty"}}},
	{"top level is a list", "- name: x\n", []wantErr{{1, 1, "recipe must be a mapping of fields, got a list"}}},
	{"top level is a string", "debian-cloud\n", []wantErr{{1, 1, `got a string ("debian-cloud")`}}},
	{"two documents", "name: a\nversion: 1\n---\nname: b\n", []wantErr{{3, 1, "more than one YAML document"}}},
	{"tab indentation", "name: a\n\tversion: 1\n", []wantErr{{2, 0, "YAML does not allow tabs"}}},
	{"unclosed flow list", "name: a\nversion: 1\npackages: [vim,\n  curl\noutputs: [raw]\n", []wantErr{{3, 0, "did not find expected ',' or ']'"}}},
	{"bad indentation", "name: a\nversion: 1\nkernel: x\n  hostname: h\n", []wantErr{{4, 0, "mapping values are not allowed"}}},
	{"list item in mapping", "name: a\nversion: 1\n- vim\n", []wantErr{{3, 0, "did not find expected key"}}},
	{"unterminated quote", "name: a\nversion: 1\nkernel: \"linux\n", []wantErr{{3, 0, "found unexpected end of stream"}}},
	{"unknown anchor", "name: a\nversion: *ver\n", []wantErr{{2, 10, "unknown anchor 'ver'"}}},
	{"misspelled field", "name: a\nversion: 1\npakages: [vim]\n", []wantErr{{3, 1, "did you mean `packages`?"}}},
	{"unknown field lists allowed", "name: a\nversion: 1\ncolour: red\n", []wantErr{{3, 1, `field "colour": not a recipe field (allowed fields: name, distro,`}}},
	{"capitalised field", "Name: a\nversion: 1\n", []wantErr{{1, 1, "did you mean `name`?"}, {1, 1, `field "name": is required`}}},
	{"non-scalar key", "name: a\nversion: 1\n? [a]\n: b\n", []wantErr{{3, 3, "field names must be plain words, got a list"}}},
	{"duplicate field", "name: a\nversion: 1\nname: b\n", []wantErr{{3, 1, `field "name": duplicate field, first set at line 1`}}},
	{"packages is a string", "name: a\nversion: 1\npackages: vim curl\n", []wantErr{{3, 11, "expected a list of package names, got a string (\"vim curl\") (write a YAML list: [vim, curl]"}}},
	{"packages is a mapping", "name: a\nversion: 1\npackages:\n  vim: 2\n", []wantErr{{4, 3, "expected a list of package names, got a mapping"}}},
	{"package item is a list", "name: a\nversion: 1\npackages:\n  - vim\n  - [curl]\n", []wantErr{{5, 5, "expected a single value in the list of package names, got a list"}}},
	{"bad package names", "name: a\nversion: 1\npackages:\n  - vim\n  - Vim\n  - x\n", []wantErr{{5, 5, `"Vim" is not a valid Debian package name`}, {6, 5, `"x" is not a valid Debian package name`}}},
	{"bad kernel", "name: a\nversion: 1\nkernel: linux_image\n", []wantErr{{3, 9, `field "kernel": "linux_image" is not a valid Debian package name`}}},
	{"kernel is a list", "name: a\nversion: 1\nkernel: [a, b]\n", []wantErr{{3, 9, "expected a single value, got a list"}}},
	{"disk size unit", "name: a\nversion: 1\ndisk_size: 12abc\n", []wantErr{{3, 12, `unknown size unit "abc" (write a whole number with a binary unit`}}},
	{"disk size decimal unit", "name: a\nversion: 1\ndisk_size: 4GB\n", []wantErr{{3, 12, `unit "GB" is ambiguous`}}},
	{"disk size not a number", "name: a\nversion: 1\ndisk_size: big\n", []wantErr{{3, 12, `"big" is not a size`}}},
	{"disk size too small", "name: a\nversion: 1\ndisk_size: 512MiB\n", []wantErr{{3, 12, "512MiB is too small (at least 1GiB)"}}},
	{"disk size too large", "name: a\nversion: 1\ndisk_size: 3T\n", []wantErr{{3, 12, "3TiB is too large (at most 2TiB)"}}},
	{"disk size zero", "name: a\nversion: 1\ndisk_size: 0\n", []wantErr{{3, 12, "must not be zero"}}},
	{"disk size not MiB", "name: a\nversion: 1\ndisk_size: 1048577KiB\n", []wantErr{{3, 12, "not a whole number of MiB"}}},
	{"disk size fraction of a byte", "name: a\nversion: 1\ndisk_size: 1.1B\n", []wantErr{{3, 12, "not a whole number of bytes"}}},
	{"disk size is a list", "name: a\nversion: 1\ndisk_size: [4GiB]\n", []wantErr{{3, 12, "expected a size such as 4GiB, got a list"}}},
	{"unknown output", "name: a\nversion: 1\noutputs: [iso]\n", []wantErr{{3, 11, `"iso" is not supported (allowed: qcow2, raw, rootfs-tar)`}}},
	{"duplicate output", "name: a\nversion: 1\noutputs:\n  - raw\n  - qcow2\n  - raw\n", []wantErr{{6, 5, `"raw" is listed twice`}}},
	{"no outputs", "name: a\nversion: 1\noutputs: []\n", []wantErr{{3, 10, "must list at least one output"}}},
	{"outputs is a string", "name: a\nversion: 1\noutputs: qcow2\n", []wantErr{{3, 10, "expected a list of outputs"}}},
	{"misspelled release", "name: a\nversion: 1\nrelease: bookwrom\n", []wantErr{{3, 10, "did you mean `bookworm`? allowed: bookworm, trixie"}}},
	{"unsupported distro", "name: a\nversion: 1\ndistro: ubuntu\n", []wantErr{{3, 9, `"ubuntu" is not supported (allowed: debian)`}}},
	{"unsupported arch", "name: a\nversion: 1\narch: arm64\n", []wantErr{{3, 7, `"arm64" is not supported (allowed: amd64)`}}},
	{"unknown compression", "name: a\nversion: 1\nqcow2_compression: xz\n", []wantErr{{3, 20, `"xz" is not supported (allowed: zlib, zstd)`}}},
	{"bad product name", "name: Debian_Cloud\nversion: 1\n", []wantErr{{1, 7, `"Debian_Cloud" is not a valid product name`}}},
	{"missing name and version", "release: trixie\n", []wantErr{{1, 1, `field "name": is required`}, {1, 1, `field "version": is required`}}},
	{"empty version", "name: a\nversion: \"\"\n", []wantErr{{2, 10, `field "version": is required`}}},
	{"null version", "name: a\nversion:\n", []wantErr{{2, 9, `field "version": is required`}}},
	{"bad version", "name: a\nversion: 1.0 beta\n", []wantErr{{2, 10, `"1.0 beta" is not a valid version`}}},
	{"unknown placeholder", "name: a\nversion: 1\nname_template: \"{distr}-{serial}\"\n", []wantErr{{3, 16, "unknown placeholder {distr} (did you mean {distro}?"}}},
	{"unclosed placeholder", "name: a\nversion: 1\nname_template: \"{serial\"\n", []wantErr{{3, 16, "has a `{` without `}`"}}},
	{"slash in template", "name: a\nversion: 1\nname_template: a/{serial}\n", []wantErr{{3, 16, `character '/' is not allowed`}}},
	{"ftp mirror", "name: a\nversion: 1\nmirror: ftp://x/debian\n", []wantErr{{3, 9, "URL scheme must be http, https or file"}}},
	{"mirror without host", "name: a\nversion: 1\nsecurity_mirror: http://\n", []wantErr{{3, 18, `"http://" has no host`}}},
	{"mirror is a mapping", "name: a\nversion: 1\nmirror: {url: x}\n", []wantErr{{3, 9, "expected a single value, got a mapping"}}},
	{"bad hostname", "name: a\nversion: 1\nhostname: my_host\n", []wantErr{{3, 11, `"my_host" is not a valid hostname`}}},
	{"unknown version scheme", "name: a\nversion: 1\nversion_scheme: semver\n", []wantErr{{3, 17, `"semver" is not supported (allowed: semver-security, calver)`}}},
	{"version outside its scheme", "name: a\nversion: 1.2\nversion_scheme: semver-security\n", []wantErr{{2, 10, `field "version": parsing semver-security version "1.2"`}}},
	{"calver version not a date", "name: a\nversion: 1.20261399.0\nversion_scheme: calver\n", []wantErr{{2, 10, `20261399`}}},
	{"channels not a list", "name: a\nversion: 1\nchannels: stable\n", []wantErr{{3, 11, "expected a list of channels"}}},
	{"channel soak not a duration", "name: a\nversion: 1\nchannels: [devel, {name: stable, soak: 7 days}]\n", []wantErr{{3, 40, `invalid duration "7 days"`}}},
	{"channel unknown key", "name: a\nversion: 1\nchannels: [{name: stable, wait: 7d}]\n", []wantErr{{3, 27, `"wait" is not a channels field`}}},
	{"channels without stable", "name: a\nversion: 1\nchannels: [devel, rolling]\n", []wantErr{{3, 11, "the channels must include stable"}}},
	{"line channel listed", "name: a\nversion: 1\nchannels: [devel, stable, stable-1.2]\n", []wantErr{{3, 27, "stable-X.Y lines are made by bakery"}}},
	{"channel twice", "name: a\nversion: 1\nchannels: [stable, stable]\n", []wantErr{{3, 20, `channel "stable" is listed twice`}}},
	{"support rule count not a number", "name: a\nversion: 1\nsupport: {newer_minors: three}\n", []wantErr{{3, 25, `field "support.newer_minors": expected a whole number`}}},
	{"support ends nothing", "name: a\nversion: 1\nsupport: {min_weeks: 4}\n", []wantErr{{3, 10, "the support policy ends no line"}}},
	{"tests is a string", "name: a\nversion: 1\ntests: boot.sh\n", []wantErr{{3, 8, "expected a list of test script paths"}}},
	{"empty test path", "name: a\nversion: 1\ntests: [boot.sh, \"\"]\n", []wantErr{{3, 18, "test path is empty"}}},
	{"config is a string", "name: a\nversion: 1\nconfig: git://x\n", []wantErr{{3, 9, `field "config": expected a mapping, got a string`}}},
	{"misspelled config key", "name: a\nversion: 1\nconfig:\n  repo: x\n  reff: a\n", []wantErr{{5, 3, "did you mean `ref`?"}}},
	{"duplicate config key", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  repo: y\n", []wantErr{{6, 3, `duplicate key "repo", first set at line 4`}}},
	{"config without repo", "name: a\nversion: 1\nconfig: {ref: 0.1.0}\n", []wantErr{{3, 9, `field "config.repo": is required`}}},
	{"config repo is an option", "name: a\nversion: 1\nconfig: {repo: --upload-pack=x, ref: a}\n", []wantErr{{3, 16, "must not start with -"}}},
	{"bad config ref", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: \"a b\"\n", []wantErr{{5, 8, `field "config.ref": "a b" is not a valid git ref`}}},
	{"config ref with dots", "name: a\nversion: 1\nconfig: {repo: x, ref: a..b}\n", []wantErr{{3, 24, "is not a valid git ref"}}},
	{"relative config path", "name: a\nversion: 1\nconfig: {repo: x, ref: a, path: etc/puppet}\n", []wantErr{{3, 33, `field "config.path": "etc/puppet" is not a clean absolute path`}}},
	{"apply with manifest and class", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  apply: {manifest: m.pp, class: web}\n", []wantErr{{6, 10, `field "config.apply": give either manifest or class`}}},
	{"apply unknown key", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  apply: {clas: web}\n", []wantErr{{6, 11, "did you mean `class`?"}}},
	{"bad class name", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  apply:\n    class: Site::Web\n", []wantErr{{7, 12, `"Site::Web" is not a Puppet class name`}}},
	{"manifest outside tree", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  apply:\n    manifest: ../site.pp\n", []wantErr{{7, 15, "is not a path inside the tree"}}},
	{"params with a manifest", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  apply:\n    manifest: m.pp\n    params: {a: 1}\n", []wantErr{{8, 13, "params need a class"}}},
	{"param value is a list", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  apply:\n    class: web\n    params: {ports: [80, 443]}\n", []wantErr{{8, 21, `field "config.apply.params.ports": expected a string, number or boolean, got a list`}}},
	{"bad param name", "name: a\nversion: 1\nconfig:\n  repo: x\n  ref: a\n  apply:\n    class: web\n    params: {Port: 80}\n", []wantErr{{8, 13, `"Port" is not a Puppet parameter name`}}},
	{"first_boot is a string", "name: a\nversion: 1\nconfig: {repo: x, ref: a, first_boot: yes}\n", []wantErr{{3, 39, `field "config.first_boot": expected true or false, got a string ("yes")`}}},
	{"version from config without config", "name: a\nversion: config\n", []wantErr{{2, 10, `field "version": "config" takes the version from the config tree's tag`}}},
	{"bad element name", "name: a\nversion: 1\nelements: [motd, ../x]\n", []wantErr{{3, 18, `field "elements": "../x" is not a valid element name`}}},
	{"duplicate element", "name: a\nversion: 1\nelements: [motd, motd]\n", []wantErr{{3, 18, `"motd" is listed twice`}}},
	{"elements is a string", "name: a\nversion: 1\nelements: motd\n", []wantErr{{3, 11, "expected a list of element names"}}},
	{"several errors", "name: a\nversion: 1\npakages: [vim]\nrelease: sid\noutputs: [iso]\ndisk_size: 1M\n",
		[]wantErr{{3, 1, "`packages`"}, {4, 10, `"sid"`}, {5, 11, `"iso"`}, {6, 12, "too small"}}},
}

func TestParseMalformed(t *testing.T) {
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse("r.yaml", []byte(tc.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", r)
			}
			if !IsUserError(err) {
				t.Errorf("IsUserError(%v) = false", err)
			}
			got := userErrors(t, err)
			if len(got) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(got), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !hasError(got, w) {
					t.Errorf("missing error at %d:%d containing %q; got:\n%v", w.line, w.col, w.contains, err)
				}
			}
		})
	}
}

// userErrors flattens err into its *Error parts, failing on anything else.
func userErrors(t *testing.T, err error) []*Error {
	t.Helper()
	var e *Error
	if errors.As(err, &e) && err == error(e) {
		return []*Error{e}
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is neither *Error nor joined: %v", err, err)
	}
	var out []*Error
	for _, part := range j.Unwrap() {
		out = append(out, userErrors(t, part)...)
	}
	return out
}

func hasError(got []*Error, w wantErr) bool {
	for _, e := range got {
		if e.File == "r.yaml" && e.Line == w.line && e.Column == w.col && strings.Contains(e.Error(), w.contains) {
			return true
		}
	}
	return false
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "r.yaml", Line: 3, Column: 5, Field: "x", Msg: "bad", Hint: "fix it"}, `r.yaml:3:5: field "x": bad (fix it)`},
		{Error{File: "r.yaml", Line: 3, Msg: "invalid YAML"}, "r.yaml:3: invalid YAML"},
		{Error{File: "$BAKERY_RELEASE", Field: "release", Msg: `"sid" is not supported`}, `$BAKERY_RELEASE: field "release": "sid" is not supported`},
		{Error{Field: "name", Msg: "is required"}, `field "name": is required`},
		{Error{Line: 2, Column: 1, Msg: "m"}, "2:1: m"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestIsUserError(t *testing.T) {
	user := &Error{Msg: "x"}
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("disk full"), false},
		{user, true},
		{fmt.Errorf("loading recipe: %w", user), true},
		{errors.Join(errors.New("a"), user), true},
	}
	for _, tc := range tests {
		if got := IsUserError(tc.err); got != tc.want {
			t.Errorf("IsUserError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(file)
	if !IsUserError(err) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load = %v, want a user error wrapping fs.ErrNotExist", err)
	}
	if want := file + ": reading recipe: no such file or directory"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestSuggest(t *testing.T) {
	names := fieldNames()
	tests := []struct{ word, want string }{
		{"pakages", "packages"},
		{"package", "packages"},
		{"Packages", "packages"},
		{"disksize", "disk_size"},
		{"nmae", "name"},
		{"relaese", "release"},
		{"security-mirror", "security_mirror"},
		{"colour", ""},
		{"x", ""},
		{strings.Repeat("a", 100), ""},
	}
	for _, tc := range tests {
		if got := suggest(tc.word, names); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"nmae", "name", 1}, {"ab", "ba", 1}, {"pakages", "packages", 1},
	}
	for _, tc := range tests {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
