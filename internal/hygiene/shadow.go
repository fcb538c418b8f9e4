package hygiene

import (
	"bytes"
	"fmt"
)

// shadowFiles hold password hashes: the live file and the backup that the
// shadow tools keep next to it.
var shadowFiles = []string{"etc/shadow", "etc/shadow-"}

// findRootPassword reports shadow files in which root can log in with a
// password (a hash or an empty field rather than "!..." or "*").
func findRootPassword(t tree) ([]string, string, error) {
	var found []string
	for _, name := range shadowFiles {
		data, ok, err := readShadow(t, name)
		if err != nil {
			return nil, "", err
		}
		if ok && rootUnlocked(data) {
			found = append(found, name)
		}
	}
	detail := ""
	if len(found) > 0 {
		detail = "root has a usable password; it must start with ! or *"
	}
	return found, detail, nil
}

func cleanRootPassword(t tree) error {
	for _, name := range shadowFiles {
		if err := lockRootIn(t, name); err != nil {
			return err
		}
	}
	return nil
}

// lockRootIn rewrites one shadow file when root is unlocked in it.
func lockRootIn(t tree, name string) error {
	data, ok, err := readShadow(t, name)
	if err != nil || !ok || !rootUnlocked(data) {
		return err
	}
	fi, err := t.lstat(name)
	if err != nil {
		return err
	}
	return t.writeFileAtomic(name, lockRoot(data), fi)
}

// readShadow reads a shadow file; ok is false when it does not exist.
func readShadow(t tree, name string) (data []byte, ok bool, err error) {
	fi, err := t.lstat(name)
	if err != nil || fi == nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("/%s is not a regular file", name)
	}
	data, err = t.root.ReadFile(name)
	if err != nil {
		return nil, false, fmt.Errorf("reading /%s: %w", name, err)
	}
	return data, true, nil
}

func rootUnlocked(shadow []byte) bool {
	for _, line := range bytes.Split(shadow, []byte("\n")) {
		if pw, ok := rootPasswordField(line); ok {
			return !bytes.HasPrefix(pw, []byte("!")) && !bytes.HasPrefix(pw, []byte("*"))
		}
	}
	return false
}

func rootPasswordField(line []byte) ([]byte, bool) {
	fields := bytes.SplitN(line, []byte(":"), 3)
	if len(fields) < 2 || string(fields[0]) != "root" {
		return nil, false
	}
	return fields[1], true
}

// lockRoot sets root's password field to "*", keeping every other byte.
func lockRoot(shadow []byte) []byte {
	lines := bytes.Split(shadow, []byte("\n"))
	for i, line := range lines {
		if _, ok := rootPasswordField(line); ok {
			fields := bytes.SplitN(line, []byte(":"), 3)
			fields[1] = []byte("*")
			lines[i] = bytes.Join(fields, []byte(":"))
		}
	}
	return bytes.Join(lines, []byte("\n"))
}
