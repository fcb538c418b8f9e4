package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a long-running command started by Start: a virtual machine, a
// server. Unlike Runner.Run, Start does not wait; the caller watches the
// process (its output files, Done) and ends it with Kill.
type Process struct {
	cmd    *exec.Cmd
	argv   string
	output *syncTail
	done   chan struct{}
	err    error // set before done is closed
}

// Start starts c in its own process group and returns at once. The process
// and everything it starts are killed when ctx is cancelled or Kill is
// called. Standard output and standard error go to c.Stdout and c.Stderr
// when they are set (they may be the same file); the last lines of both are
// kept for Output and for the *Error that Wait returns.
func Start(ctx context.Context, c Cmd) (*Process, error) {
	if len(c.Args) == 0 {
		return nil, errors.New("starting command: empty argv")
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = c.Stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	cmd.WaitDelay = 2 * time.Second // a child holding the output pipe must not block Wait
	p := &Process{cmd: cmd, argv: c.String(), output: &syncTail{t: tailBuffer{max: 64 << 10}}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.output, p.output // the same writer: exec copies with one goroutine
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(c.Stdout, p.output)
	}
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(c.Stderr, p.output)
	}
	if err := cmd.Start(); err != nil {
		return nil, &Error{Cmd: p.argv, ExitCode: -1, Err: err}
	}
	go p.wait(ctx)
	return p, nil
}

func (p *Process) wait(ctx context.Context) {
	err := p.cmd.Wait()
	_ = killGroup(p.cmd.Process.Pid) // children left behind by the leader
	if err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			code = ee.ExitCode()
		}
		if ctx.Err() != nil {
			err, code = ctx.Err(), -1
		}
		p.err = &Error{Cmd: p.argv, ExitCode: code, Stderr: p.output.tail(TailLines), Err: err}
	}
	close(p.done)
}

// Pid is the process ID, which is also its process group ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited and Wait would not block.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns nil when it exited with
// status 0, an *Error otherwise. It may be called any number of times.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Kill kills the whole process group with SIGKILL and waits for the leader
// to be reaped. Killing a process that already exited is not an error.
func (p *Process) Kill() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := killGroup(p.cmd.Process.Pid); err != nil && !errors.Is(err, syscall.ESRCH) {
		return &Error{Cmd: p.argv, ExitCode: -1, Err: err}
	}
	<-p.done
	return nil
}

// Output returns the last lines the process wrote to standard output and
// standard error.
func (p *Process) Output() string { return p.output.tail(TailLines) }

func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }

// syncTail is a tailBuffer safe for concurrent use: Output may read it while
// exec's copying goroutine writes.
type syncTail struct {
	mu sync.Mutex
	t  tailBuffer
}

func (s *syncTail) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.Write(b)
}

func (s *syncTail) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.tail(n)
}
