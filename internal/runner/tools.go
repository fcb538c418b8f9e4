package runner

import (
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// Packages maps each host tool bakery uses to the Debian package that
// provides it, so a missing tool can be reported with the fix.
var Packages = map[string]string{
	"mmdebstrap":         "mmdebstrap",
	"sfdisk":             "fdisk",
	"mkfs.ext4":          "e2fsprogs",
	"debugfs":            "e2fsprogs",
	"mformat":            "mtools",
	"mcopy":              "mtools",
	"mmd":                "mtools",
	"grub-mkimage":       "grub-common",
	"qemu-img":           "qemu-utils",
	"qemu-system-x86_64": "qemu-system-x86",
	"zstd":               "zstd",
	"tar":                "tar",
	"chroot":             "coreutils",
	"xorriso":            "xorriso",
	"blkid":              "util-linux",
	"git":                "git",
	"gpg":                "gpg",
	"gpgv":               "gpgv",
}

// MissingToolError names host tools that are not installed and the Debian
// packages that provide them.
type MissingToolError struct{ Tools []string }

func (e *MissingToolError) Error() string {
	pkgs := map[string]bool{}
	for _, t := range e.Tools {
		if p, ok := Packages[t]; ok {
			pkgs[p] = true
		}
	}
	var list []string
	for p := range pkgs {
		list = append(list, p)
	}
	sort.Strings(list)
	return fmt.Sprintf("missing host tools: %s; install them with: apt-get install %s",
		strings.Join(e.Tools, ", "), strings.Join(list, " "))
}

// Require checks that every tool is on PATH (or /usr/sbin, /sbin).
func Require(tools ...string) error {
	var missing []string
	for _, t := range tools {
		if _, err := LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return &MissingToolError{Tools: missing}
	}
	return nil
}

// LookPath finds a tool on PATH, falling back to the sbin directories that
// a non-root PATH often lacks.
func LookPath(tool string) (string, error) {
	if p, err := exec.LookPath(tool); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p, err := exec.LookPath(dir + "/" + tool); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("looking up %s: not found", tool)
}
