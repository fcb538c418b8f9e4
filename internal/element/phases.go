package element

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bakery-dev/bakery/internal/runner"
)

// Phase is one diskimage-builder phase directory.
type Phase struct {
	Dir      string // e.g. install.d
	InTarget bool   // run inside the image root (chroot) rather than on the host
}

// Phases run in this order.
var Phases = []Phase{
	{"extra-data.d", false},
	{"pre-install.d", true},
	{"install.d", true},
	{"post-install.d", true},
	{"finalise.d", true},
	{"cleanup.d", false},
}

// TargetHooks is where the hooks are copied inside the image while the
// in-target phases run; it is removed afterwards.
const TargetHooks = "/tmp/bakery-elements"

// Options configure running the phases of a build's elements.
type Options struct {
	Tree         string // the image root
	WorkDir      string // host scratch directory for the merged hooks
	Runner       runner.Runner
	Logger       *slog.Logger
	Output       io.Writer                // scripts' output; nil discards (the tail still reaches errors)
	InTarget     func(func() error) error // wraps the in-target phases (mounts /proc); nil runs them directly
	Release      string                   // DIB_RELEASE, e.g. bookworm
	Distro       string                   // DISTRO_NAME, e.g. debian
	Arch         string                   // DIB_ARCH, e.g. amd64
	ImageName    string                   // IMAGE_NAME / DIB_IMAGE_NAME
	ElementsPath []string                 // ELEMENTS_PATH
}

// ScriptError is a failed element script.
type ScriptError struct {
	Element, Phase, Script string
	Err                    error // a *runner.Error carries the output's tail
}

func (e *ScriptError) Error() string {
	return fmt.Sprintf("element %s, phase %s, script %s: %v", e.Element, e.Phase, e.Script, e.Err)
}

func (e *ScriptError) Unwrap() error { return e.Err }

// script is one executable of a phase, merged from every element.
type script struct {
	name, element, src string
}

var scriptName = regexp.MustCompile(`^[0-9A-Za-z_-]+$`)

// hooks lists the scripts of each phase across elements, in name order,
// like diskimage-builder's dib-run-parts over its merged hooks directory.
func hooks(elems []Element, phase string) ([]script, error) {
	var out []script
	seen := map[string]string{}
	for _, e := range elems {
		found, err := phaseScripts(e, phase)
		if err != nil {
			return nil, err
		}
		for _, s := range found {
			if other, dup := seen[s.name]; dup {
				return nil, fmt.Errorf("script %s/%s is in both element %s and element %s", phase, s.name, other, e.Name)
			}
			seen[s.name] = e.Name
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// phaseScripts are the executables of one element's phase directory;
// other files (READMEs, editor backups) are skipped.
func phaseScripts(e Element, phase string) ([]script, error) {
	entries, err := os.ReadDir(filepath.Join(e.Dir, phase))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("element %s: reading %s: %w", e.Name, phase, err)
	}
	var out []script
	for _, de := range entries {
		src := filepath.Join(e.Dir, phase, de.Name())
		fi, err := os.Stat(src)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 || !scriptName.MatchString(de.Name()) {
			continue
		}
		out = append(out, script{name: de.Name(), element: e.Name, src: src})
	}
	return out, nil
}

// envFiles are every element's environment.d files, in name order.
func envFiles(elems []Element) []string {
	var files []string
	for _, e := range elems {
		found, _ := filepath.Glob(filepath.Join(e.Dir, "environment.d", "*"))
		files = append(files, found...)
	}
	slices.SortFunc(files, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	return files
}

// Env is the environment diskimage-builder elements expect.
func (o Options) Env(elems []Element, p Phase, hooksDir string) []string {
	names := make([]string, len(elems))
	for i, e := range elems {
		names[i] = e.Name
	}
	env := []string{
		"DIB_RELEASE=" + o.Release, "DISTRO_NAME=" + o.Distro, "DIB_ARCH=" + o.Arch, "ARCH=" + o.Arch,
		"IMAGE_NAME=" + o.ImageName, "DIB_IMAGE_NAME=" + o.ImageName, "IMAGE_ELEMENT=" + strings.Join(names, " "),
		"ELEMENTS_PATH=" + strings.Join(o.ElementsPath, ":"), "TMP_HOOKS_PATH=" + hooksDir,
		"DIB_INIT_SYSTEM=systemd", "DIB_PYTHON_VERSION=3", "DIB_DEBUG_TRACE=0", "DIB_PHASE=" + strings.TrimSuffix(p.Dir, ".d"),
	}
	if p.InTarget {
		return append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
			"LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive")
	}
	return append(env, "TARGET_ROOT="+o.Tree, "TMP_MOUNT_PATH="+o.Tree, "TMP_BUILD_DIR="+o.WorkDir)
}

// wrapper sources the merged environment.d files, then runs the script.
const wrapper = `set -e
for f in "$1"/*; do if [ -f "$f" ]; then . "$f"; fi; done
exec "$2"`

// ScriptArgs is the command line of one script: on the host, or inside
// the image root with hooks (the merged hooks directory) as seen there.
func ScriptArgs(tree string, p Phase, hooksDir, name string) []string {
	args := []string{"/bin/bash", "-c", wrapper, "bakery-element",
		filepath.Join(hooksDir, "environment.d"), filepath.Join(hooksDir, p.Dir, name)}
	if p.InTarget {
		return append([]string{"chroot", tree}, args...)
	}
	return args
}
