// Package runner is the only package that starts external programs.
// Every other package builds argv with pure functions and hands it to a
// Runner, so unit tests can record command lines instead of running them.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Cmd is one external command.
type Cmd struct {
	Args   []string  // argv; Args[0] is the program
	Env    []string  // extra KEY=VALUE pairs added to the process environment
	Dir    string    // working directory; empty for the current one
	Stdin  io.Reader // optional
	Stdout io.Writer // optional: when set, output is streamed here and not returned
	Stderr io.Writer // optional: standard error is also streamed here (the tail is still kept)
}

func (c Cmd) String() string { return strings.Join(c.Args, " ") }

// Runner runs commands. Run returns the command's standard output (unless
// Cmd.Stdout is set) and an *Error when the command fails.
type Runner interface {
	Run(ctx context.Context, c Cmd) ([]byte, error)
}

// Error describes a failed command: what ran, how it ended and the tail of
// what it wrote to standard error.
type Error struct {
	Cmd      string
	ExitCode int // -1 when the command did not exit normally
	Stderr   string
	Err      error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("command failed (exit %d): %s", e.ExitCode, e.Cmd)
	if e.ExitCode < 0 {
		msg = fmt.Sprintf("command failed (%v): %s", e.Err, e.Cmd)
	}
	if e.Stderr != "" {
		msg += "\n--- last lines of its output ---\n" + e.Stderr
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// KillDelay is how long a cancelled command may take to exit after SIGTERM
// before its process group is killed.
var KillDelay = 10 * time.Second

// TailLines is how many lines of standard error an Error keeps.
const TailLines = 20

// Exec runs commands for real.
type Exec struct{}

var _ Runner = Exec{}

// Run starts c in its own process group, so that cancelling ctx ends the
// command and everything it started.
func (Exec) Run(ctx context.Context, c Cmd) ([]byte, error) {
	if len(c.Args) == 0 {
		return nil, errors.New("running command: empty argv")
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = c.Stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On cancellation the whole group gets SIGTERM, so tools such as
	// mmdebstrap can unmount and clean up; SIGKILL follows after KillDelay.
	cmd.Cancel = func() error {
		pid := cmd.Process.Pid
		err := syscall.Kill(-pid, syscall.SIGTERM)
		time.AfterFunc(KillDelay, func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
		return err
	}
	cmd.WaitDelay = KillDelay + time.Second
	var stdout bytes.Buffer
	stderr := &syncTail{t: tailBuffer{max: 64 << 10}} // stdout may be teed into it concurrently
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(c.Stdout, stderr)
	} else {
		cmd.Stdout = &stdout
	}
	cmd.Stderr = stderr
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(c.Stderr, stderr)
	}
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		err = ctx.Err()
		code = -1
	}
	return stdout.Bytes(), &Error{Cmd: c.String(), ExitCode: code, Stderr: stderr.tail(TailLines), Err: err}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(string(t.buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// Recorder is a Runner for unit tests: it records every command and answers
// from Outputs (keyed by program name) without running anything.
type Recorder struct {
	Cmds    []Cmd
	Outputs map[string][]byte
	Errs    map[string]error
}

var _ Runner = (*Recorder)(nil)

func (r *Recorder) Run(_ context.Context, c Cmd) ([]byte, error) {
	r.Cmds = append(r.Cmds, c)
	if len(c.Args) == 0 {
		return nil, errors.New("running command: empty argv")
	}
	return r.Outputs[c.Args[0]], r.Errs[c.Args[0]]
}

// Argvs returns the recorded command lines, one string each.
func (r *Recorder) Argvs() []string {
	out := make([]string, len(r.Cmds))
	for i, c := range r.Cmds {
		out[i] = c.String()
	}
	return out
}
