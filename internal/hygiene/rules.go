package hygiene

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

func findSSHHostKeys(t tree) ([]string, string, error) {
	found, err := t.glob("etc/ssh/ssh_host_*_key", "etc/ssh/ssh_host_*_key.pub", "etc/ssh/ssh_host_*_key-cert.pub")
	return found, "", err
}

// findAptLists reports every file under /var/lib/apt/lists but the lock;
// directories (partial/, auxfiles/) may stay.
func findAptLists(t tree) ([]string, string, error) {
	const dir = "var/lib/apt/lists"
	var found []string
	err := t.walk(dir, func(name string, d fs.DirEntry) error {
		if !d.IsDir() && name != dir+"/lock" {
			found = append(found, name)
		}
		return nil
	})
	return found, "", err
}

func findAptCache(t tree) ([]string, string, error) {
	found, err := t.glob("var/cache/apt/archives/*.deb", "var/cache/apt/archives/partial/*", "var/cache/apt/*.bin")
	return found, "", err
}

var historyFiles = []string{
	".bash_history", ".zsh_history", ".lesshst", ".viminfo", ".python_history",
	".mysql_history", ".psql_history", ".sqlite_history", ".node_repl_history", ".wget-hsts",
}

func findShellHistory(t tree) ([]string, string, error) {
	homes, err := t.subdirs("home")
	if err != nil {
		return nil, "", err
	}
	var names []string
	for _, h := range append([]string{"root"}, homes...) {
		for _, f := range historyFiles {
			names = append(names, path.Join(h, f))
		}
	}
	found, err := t.existing(names...)
	return found, "", err
}

func findRandomSeeds(t tree) ([]string, string, error) {
	found, err := t.existing("var/lib/systemd/random-seed", "var/lib/urandom/random-seed")
	return found, "", err
}

func findCloudInitState(t tree) ([]string, string, error) {
	found, err := t.entries("var/lib/cloud")
	return found, "", err
}

func findTmp(t tree) ([]string, string, error) {
	var found []string
	for _, dir := range []string{"tmp", "var/tmp"} {
		e, err := t.entries(dir)
		if err != nil {
			return nil, "", err
		}
		found = append(found, e...)
	}
	return found, "", nil
}

func findDpkgBackups(t tree) ([]string, string, error) {
	found, err := t.glob("var/lib/dpkg/*-old", "var/cache/debconf/*-old")
	return found, "", err
}

// machineIDFile must exist and be empty: systemd then makes a fresh ID on
// first boot. dbus's copy may only be absent or a link to it.
const (
	machineIDFile = "etc/machine-id"
	dbusIDFile    = "var/lib/dbus/machine-id"
)

func findMachineID(t tree) ([]string, string, error) {
	var found, details []string
	fi, err := t.lstat(machineIDFile)
	if err != nil {
		return nil, "", err
	}
	if problem := machineIDProblem(fi); problem != "" {
		found = append(found, machineIDFile)
		details = append(details, "/"+machineIDFile+" "+problem)
	}
	ok, err := dbusIDOK(t)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		found = append(found, dbusIDFile)
		details = append(details, "/"+dbusIDFile+" is not a link to /etc/machine-id")
	}
	return found, joinDetails(details), nil
}

func machineIDProblem(fi fs.FileInfo) string {
	switch {
	case fi == nil:
		return "is missing"
	case !fi.Mode().IsRegular():
		return "is not a regular file"
	case fi.Size() != 0:
		return "is not empty"
	}
	return ""
}

func dbusIDOK(t tree) (bool, error) {
	fi, err := t.lstat(dbusIDFile)
	if err != nil || fi == nil {
		return err == nil, err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return false, nil
	}
	target, err := t.root.Readlink(dbusIDFile)
	if err != nil {
		return false, fmt.Errorf("reading link /%s: %w", dbusIDFile, err)
	}
	if !path.IsAbs(target) {
		target = path.Join("/", path.Dir(dbusIDFile), target)
	}
	return path.Clean(target) == "/"+machineIDFile, nil
}

func cleanMachineID(t tree) error {
	fi, err := t.lstat(machineIDFile)
	if err != nil {
		return err
	}
	if err := emptyMachineID(t, fi); err != nil {
		return err
	}
	ok, err := dbusIDOK(t)
	if err != nil || ok {
		return err
	}
	if err := t.root.Remove(dbusIDFile); err != nil {
		return fmt.Errorf("removing /%s: %w", dbusIDFile, err)
	}
	if err := t.root.Symlink("/"+machineIDFile, dbusIDFile); err != nil {
		return fmt.Errorf("linking /%s: %w", dbusIDFile, err)
	}
	return nil
}

func emptyMachineID(t tree, fi fs.FileInfo) error {
	if fi != nil && fi.Mode().IsRegular() {
		return t.truncate(machineIDFile)
	}
	if fi != nil {
		if err := t.root.Remove(machineIDFile); err != nil {
			return fmt.Errorf("removing /%s: %w", machineIDFile, err)
		}
	}
	if err := t.root.MkdirAll("etc", 0o755); err != nil {
		return fmt.Errorf("creating /etc: %w", err)
	}
	if err := t.root.WriteFile(machineIDFile, nil, 0o444); err != nil {
		return fmt.Errorf("creating /%s: %w", machineIDFile, err)
	}
	return nil
}

const logDir = "var/log"

var (
	journalDir = logDir + "/journal"
	rotatedLog = regexp.MustCompile(`(\.(gz|xz|bz2|zst|lz4|old)|\.[0-9]+|-[0-9]{8})$`)
)

// logOffence is a log file with content (truncated) or one to remove
// (rotated logs, the journal's contents).
type logOffence struct {
	name   string
	remove bool
}

func logOffences(t tree) ([]logOffence, error) {
	journal, err := t.entries(journalDir)
	if err != nil && !isNotDir(t, journalDir) {
		return nil, err
	}
	var out []logOffence
	for _, j := range journal {
		out = append(out, logOffence{name: j, remove: true})
	}
	err = t.walk(logDir, func(name string, d fs.DirEntry) error {
		if name == journalDir && d.IsDir() {
			return fs.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if rotated := rotatedLog.MatchString(name); rotated || fi.Size() > 0 {
			out = append(out, logOffence{name: name, remove: rotated})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b logOffence) int { return strings.Compare(a.name, b.name) })
	return out, err
}

func isNotDir(t tree, name string) bool {
	fi, err := t.lstat(name)
	return err == nil && fi != nil && !fi.IsDir()
}

func findLogs(t tree) ([]string, string, error) {
	offences, err := logOffences(t)
	if err != nil {
		return nil, "", err
	}
	var found []string
	for _, o := range offences {
		found = append(found, o.name)
	}
	return found, "", nil
}

func cleanLogs(t tree) error {
	offences, err := logOffences(t)
	if err != nil {
		return err
	}
	for _, o := range offences {
		if o.remove {
			err = t.removeAll([]string{o.name})
		} else {
			err = t.truncate(o.name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// maxKeyFile bounds how much of a file the secrets rule reads.
const maxKeyFile = 1 << 20

func findSecrets(t tree) ([]string, string, error) {
	found, err := t.glob("root/.ssh/id_*", "home/*/.ssh/id_*", "etc/ssl/private/*.key")
	if err != nil {
		return nil, "", err
	}
	for _, dir := range []string{"root", "home"} {
		keys, err := t.regularFiles(dir, t.containsPrivateKey)
		if err != nil {
			return nil, "", err
		}
		found = append(found, keys...)
	}
	keys, err := t.regularFiles("etc", t.isPEMPrivateKey)
	if err != nil {
		return nil, "", err
	}
	found = append(found, keys...)
	slices.Sort(found)
	return slices.Compact(found), "", nil
}

var privateKeyMarker = []byte("PRIVATE KEY-----")

func (t tree) containsPrivateKey(name string, fi fs.FileInfo) (bool, error) {
	if fi.Size() > maxKeyFile || fi.Size() < int64(len(privateKeyMarker)) {
		return false, nil
	}
	data, err := t.readHead(name, maxKeyFile)
	return bytes.Contains(data, privateKeyMarker), err
}

// isPEMPrivateKey finds keys under /etc, leaving SSH host keys to their own
// rule.
func (t tree) isPEMPrivateKey(name string, fi fs.FileInfo) (bool, error) {
	if ok, _ := path.Match("etc/ssh/ssh_host_*", name); ok {
		return false, nil
	}
	head, err := t.readHead(name, int64(len("-----BEGIN")))
	if err != nil || !bytes.Equal(head, []byte("-----BEGIN")) {
		return false, err
	}
	return t.containsPrivateKey(name, fi)
}
