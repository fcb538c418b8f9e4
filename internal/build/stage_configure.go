package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Identity is what an image knows about itself, written to
// /etc/bakery/release (os-release style KEY="value" lines).
type Identity struct {
	Name    string
	Product string
	Version string
	Serial  string
	BuildID string
	Distro  string
	Release string
	Arch    string

	ConfigRef    string // the config tree's ref as asked for; "" without one
	ConfigCommit string // the commit it resolved to
}

// ReleaseFile renders /etc/bakery/release. It holds only what the build's
// inputs determine (not the image's name or serial, which are unique per
// build), so two builds of one lock give identical trees.
func (id Identity) ReleaseFile() string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"BAKERY_PRODUCT", id.Product}, {"BAKERY_VERSION", id.Version}, {"BAKERY_BUILD_ID", id.BuildID},
		{"BAKERY_DISTRO", id.Distro}, {"BAKERY_RELEASE", id.Release}, {"BAKERY_ARCH", id.Arch},
	} {
		fmt.Fprintf(&b, "%s=%q\n", kv[0], kv[1])
	}
	if id.ConfigCommit != "" {
		fmt.Fprintf(&b, "BAKERY_CONFIG_REF=%q\nBAKERY_CONFIG_COMMIT=%q\n", id.ConfigRef, id.ConfigCommit)
	}
	return b.String()
}

// Configure writes the files that make a bootstrapped tree a cloud image:
// the release file, hostname, cloud-init settings and network fallback.
type Configure struct {
	Identity Identity
	Hostname string
}

func (Configure) Name() string { return "configure" }

func (s Configure) Describe() map[string]any {
	files := []string{}
	for _, f := range s.files() {
		files = append(files, f.path)
	}
	return map[string]any{"files": files}
}

type treeFile struct {
	path    string
	mode    os.FileMode
	content string
}

// cloudConfig limits cloud-init to the datasources a private cloud or a
// local VM offers, so first boot does not wait probing for others.
const cloudConfig = `# written by bakery
datasource_list: [NoCloud, ConfigDrive, OpenStack, None]
manage_etc_hosts: true
`

const interfaces = `# written by bakery; cloud-init adds interfaces.d/50-cloud-init
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
`

func (s Configure) files() []treeFile {
	return []treeFile{
		{"/etc/bakery/release", 0o644, s.Identity.ReleaseFile()},
		{"/etc/hostname", 0o644, s.Hostname + "\n"},
		{"/etc/hosts", 0o644, "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"},
		{"/etc/cloud/cloud.cfg.d/01_bakery.cfg", 0o644, cloudConfig},
		{"/etc/network/interfaces", 0o644, interfaces},
		{"/etc/default/locale", 0o644, "LANG=C.UTF-8\n"},
	}
}

func (s Configure) Run(_ context.Context, ws *Workspace) error {
	for _, f := range s.files() {
		if err := writeTreeFile(ws.Tree, f); err != nil {
			return err
		}
	}
	return nil
}

func writeTreeFile(tree string, f treeFile) error {
	p := filepath.Join(tree, f.path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	// Never write through a symlink planted in the tree.
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	if err := os.WriteFile(p, []byte(f.content), f.mode); err != nil {
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return nil
}
