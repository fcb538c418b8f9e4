package configtree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bakery-dev/bakery/internal/runner"
)

// ApplySpec is one `puppet apply` of the baked tree.
type ApplySpec struct {
	Path        string         // the tree in the image; its last element is the environment
	Manifest    string         // relative to the tree; "" with no class: the environment's manifests/
	Class       string         // a class to declare instead of a manifest
	Params      map[string]any // class parameters: string, bool, int or float
	HieraConfig string         // optional global hiera.yaml in the image
}

// ErrApply is returned when puppet apply fails or a resource fails.
var ErrApply = errors.New("puppet apply failed")

var envNamePattern = regexp.MustCompile(`^[a-z0-9_]+$`)

// Validate checks that the tree's directory can be a Puppet environment.
func (s ApplySpec) Validate() error {
	if env := path.Base(s.Path); !envNamePattern.MatchString(env) || !path.IsAbs(s.Path) {
		return fmt.Errorf("config path %q: its last directory is the Puppet environment and must be lowercase letters, digits and _", s.Path)
	}
	return nil
}

// Args is the puppet command line, as run inside the image. Detailed exit
// codes tell "changes applied" (2) from "resources failed" (4, 6).
func (s ApplySpec) Args() []string {
	args := []string{"puppet", "apply", "--detailed-exitcodes", "--color=false",
		"--environmentpath=" + path.Dir(s.Path), "--environment=" + path.Base(s.Path)}
	if s.HieraConfig != "" {
		args = append(args, "--hiera_config="+s.HieraConfig)
	}
	if s.Class != "" {
		return append(args, "-e", s.ClassCode())
	}
	m := s.Manifest
	if m == "" {
		m = "manifests"
	}
	return append(args, path.Join(s.Path, m))
}

// ClassCode declares the class with its parameters, in name order.
func (s ApplySpec) ClassCode() string {
	var b strings.Builder
	fmt.Fprintf(&b, "class { %s:", puppetString(s.Class))
	for _, k := range slices.Sorted(maps.Keys(s.Params)) {
		fmt.Fprintf(&b, " %s => %s,", k, puppetValue(s.Params[k]))
	}
	b.WriteString(" }")
	return b.String()
}

func puppetValue(v any) string {
	switch v := v.(type) {
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return puppetString(fmt.Sprint(v))
}

// puppetString is a single-quoted Puppet string: only \ and ' are escaped.
func puppetString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// ChrootArgs runs argv inside the image root.
func ChrootArgs(root string, argv []string) []string {
	return append([]string{"chroot", root}, argv...)
}

// ChrootEnv is the environment of commands run inside the image: the
// host's PATH and locale mean nothing there.
var ChrootEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"}

// Apply runs puppet apply inside the image root with /proc mounted. Its
// output goes to out and, on failure, its tail into the error.
func Apply(ctx context.Context, r runner.Runner, root string, s ApplySpec, out io.Writer) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if out == nil {
		out = io.Discard
	}
	return WithProc(ctx, r, root, func() error {
		_, err := r.Run(ctx, runner.Cmd{Args: ChrootArgs(root, s.Args()), Env: ChrootEnv, Stdout: out, Stderr: out})
		if err == nil || changesApplied(err) {
			return nil
		}
		return fmt.Errorf("%w: %w", ErrApply, err)
	})
}

// changesApplied reports puppet's detailed exit code 2: success with changes.
func changesApplied(err error) bool {
	var re *runner.Error
	return errors.As(err, &re) && re.ExitCode == 2
}

func mountProcArgs(root string) []string {
	return []string{"mount", "-t", "proc", "proc", filepath.Join(root, "proc")}
}

func umountArgs(root string) []string {
	return []string{"umount", "--lazy", filepath.Join(root, "proc")}
}

// WithProc mounts /proc in the image root, runs fn and always unmounts it
// again, also when fn fails or ctx is cancelled.
func WithProc(ctx context.Context, r runner.Runner, root string, fn func() error) (err error) {
	if _, err := SafeDir(root, "proc"); err != nil {
		return err
	}
	if _, err := r.Run(ctx, runner.Cmd{Args: mountProcArgs(root)}); err != nil {
		return fmt.Errorf("mounting /proc in %s: %w", root, err)
	}
	defer func() {
		if _, uerr := r.Run(context.WithoutCancel(ctx), runner.Cmd{Args: umountArgs(root)}); uerr != nil {
			err = errors.Join(err, fmt.Errorf("unmounting /proc in %s: %w", root, uerr))
		}
	}()
	return fn()
}
