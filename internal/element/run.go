package element

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bakery-dev/bakery/internal/runner"
)

// staged is the merged hooks directory on the host: each phase's scripts
// across elements, and every environment.d file.
type staged struct {
	dir     string
	scripts map[string][]script // phase dir → scripts in run order
}

// Run runs every phase of the elements in order: extra-data.d on the host,
// pre-install.d to finalise.d inside the image root (hooks copied to
// TargetHooks and removed afterwards), then cleanup.d on the host.
func Run(ctx context.Context, o Options, elems []Element) error {
	o.warnUnsupported(elems)
	st, err := stage(elems, filepath.Join(o.WorkDir, "hooks"))
	defer os.RemoveAll(filepath.Join(o.WorkDir, "hooks"))
	if err != nil {
		return err
	}
	if err := o.runPhase(ctx, elems, Phases[0], st.dir, st); err != nil {
		return err
	}
	if err := o.runInTarget(ctx, elems, st); err != nil {
		return err
	}
	return o.runPhase(ctx, elems, Phases[len(Phases)-1], st.dir, st)
}

func stage(elems []Element, dir string) (staged, error) {
	st := staged{dir: dir, scripts: map[string][]script{}}
	for _, p := range Phases {
		scripts, err := hooks(elems, p.Dir)
		if err != nil {
			return st, err
		}
		st.scripts[p.Dir] = scripts
		for _, s := range scripts {
			if err := copyFile(s.src, filepath.Join(dir, p.Dir, s.name)); err != nil {
				return st, err
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "environment.d"), 0o755); err != nil {
		return st, fmt.Errorf("staging hooks: %w", err)
	}
	for _, f := range envFiles(elems) {
		if err := copyFile(f, filepath.Join(dir, "environment.d", filepath.Base(f))); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (o Options) runInTarget(ctx context.Context, elems []Element, st staged) error {
	var inTarget []Phase
	for _, p := range Phases {
		if p.InTarget && len(st.scripts[p.Dir]) > 0 {
			inTarget = append(inTarget, p)
		}
	}
	if len(inTarget) == 0 {
		return nil
	}
	target := filepath.Join(o.Tree, TargetHooks)
	if err := copyTree(st.dir, target); err != nil {
		return err
	}
	defer os.RemoveAll(target)
	run := func() error {
		for _, p := range inTarget {
			if err := o.runPhase(ctx, elems, p, TargetHooks, st); err != nil {
				return err
			}
		}
		return nil
	}
	if o.InTarget == nil {
		return run()
	}
	return o.InTarget(run)
}

// runPhase runs a phase's scripts in name order; hooksDir is the merged
// hooks directory as the scripts see it.
func (o Options) runPhase(ctx context.Context, elems []Element, p Phase, hooksDir string, st staged) error {
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	env := o.Env(elems, p, hooksDir)
	for _, s := range st.scripts[p.Dir] {
		if o.Logger != nil {
			o.Logger.Info("running element script", "element", s.element, "phase", p.Dir, "script", s.name)
		}
		_, err := o.Runner.Run(ctx, runner.Cmd{Args: ScriptArgs(o.Tree, p, hooksDir, s.name), Env: env, Stdout: out, Stderr: out})
		if err != nil {
			return &ScriptError{Element: s.element, Phase: p.Dir, Script: s.name, Err: err}
		}
	}
	return nil
}

// warnUnsupported logs phase directories bakery does not run (root.d,
// block-device.d, …): bakery makes the root tree and the disk itself.
func (o Options) warnUnsupported(elems []Element) {
	if o.Logger == nil {
		return
	}
	for _, e := range elems {
		dirs, _ := filepath.Glob(filepath.Join(e.Dir, "*.d"))
		for _, d := range dirs {
			name := filepath.Base(d)
			if name != "environment.d" && !slices.ContainsFunc(Phases, func(p Phase) bool { return p.Dir == name }) {
				o.Logger.Warn("element phase not supported by bakery; skipped", "element", e.Name, "phase", name)
			}
		}
	}
}

// copyFile copies a file's content and permission bits, following links.
func copyFile(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("staging %s: %w", src, err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("staging %s: %w", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("staging %s: %w", src, err)
	}
	if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("staging %s: %w", src, err)
	}
	return os.Chmod(dst, fi.Mode().Perm())
}

// copyTree copies the staged hooks into the image, refusing to write
// through a symbolic link there.
func copyTree(src, dst string) error {
	if fi, err := os.Lstat(filepath.Dir(dst)); err != nil || !fi.IsDir() {
		return fmt.Errorf("copying hooks into the image: %s is not a directory", filepath.Dir(dst))
	}
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("copying hooks into the image: %w", err)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if strings.HasPrefix(rel, "..") {
			return fmt.Errorf("copying hooks: %s leaves %s", p, src)
		}
		return copyFile(p, target)
	})
}
