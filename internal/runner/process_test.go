package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// startFamily starts a shell that starts a background child, writes the
// child's pid to a file and sleeps; it returns the process and the child pid.
func startFamily(t *testing.T, ctx context.Context) (*Process, int) {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	p, err := Start(ctx, Cmd{Args: []string{"sh", "-c", `sleep 300 & echo $! > "$1"; echo started; wait`, "sh", pidFile}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return p, pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("child did not start")
	return nil, 0
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProcessKillEndsGroup(t *testing.T) {
	p, child := startFamily(t, context.Background())
	if !alive(p.Pid()) || !alive(child) {
		t.Fatal("family not running")
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, child)
	var re *Error
	if err := p.Wait(); !errors.As(err, &re) || re.ExitCode != -1 {
		t.Fatalf("Wait after Kill = %v, want *Error with exit -1", err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("second Kill = %v", err)
	}
}

func TestProcessContextCancelEndsGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, child := startFamily(t, ctx)
	cancel()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("process did not end after cancel")
	}
	waitGone(t, child)
	if err := p.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

func TestProcessOutputAndExit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Start(context.Background(), Cmd{Args: []string{"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"}, Stdout: f, Stderr: f})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Wait()
	var re *Error
	if !errors.As(err, &re) || re.ExitCode != 3 || !strings.Contains(re.Stderr, "to-stderr") {
		t.Fatalf("Wait = %#v, want exit 3 with stderr tail", err)
	}
	b, _ := os.ReadFile(out)
	if got := string(b); !strings.Contains(got, "to-stdout") || !strings.Contains(got, "to-stderr") {
		t.Fatalf("output file = %q", got)
	}
	if !strings.Contains(p.Output(), "to-stdout") {
		t.Fatalf("Output() = %q", p.Output())
	}
}

func TestProcessSuccess(t *testing.T) {
	p, err := Start(context.Background(), Cmd{Args: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
}

func TestStartMissingProgram(t *testing.T) {
	_, err := Start(context.Background(), Cmd{Args: []string{"/nonexistent/bakery-no-such-program"}})
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("Start = %v, want *Error", err)
	}
	if _, err := Start(context.Background(), Cmd{}); err == nil {
		t.Fatal("Start with empty argv succeeded")
	}
}
