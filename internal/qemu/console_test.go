package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSlowly appends chunks to path with a pause between them, as a
// booting machine does.
func writeSlowly(t *testing.T, path string, chunks ...string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			done <- err
			return
		}
		defer f.Close()
		for _, c := range chunks {
			time.Sleep(50 * time.Millisecond)
			if _, err := f.WriteString(c); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

func TestWaitForConsoleMatches(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{"login", []string{"\x1bc\x1b[2JSeaBIOS\r\n", "[    0.000000] Linux version 6.1\r\n", "Debian GNU/Linux 12 debian ttyS0\r\n\r\ndebian login: "}, "login:"},
		{"split across writes", []string{"Cloud-init v. 22.4.2 fin", "ished at Mon, 01 Jan 2024 00:00:00 +0000\r\n"}, "finished at"},
		{"earliest in file wins", []string{"Cloud-init v. 22.4.2 finished at now\r\ndebian login: "}, "finished at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "console.log") // created later by the writer
			done := writeSlowly(t, log, tt.chunks...)
			got, err := WaitForConsole(context.Background(), log, []string{"login:", "finished at"}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("matched %q, want %q", got, tt.want)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWaitForConsoleTimeoutShowsTail(t *testing.T) {
	log := filepath.Join(t.TempDir(), "console.log")
	var lines []string
	for i := 1; i <= 40; i++ {
		lines = append(lines, fmt.Sprintf("\x1b[0mline %d\r\n", i))
	}
	if err := <-writeSlowly(t, log, strings.Join(lines, "")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := WaitForConsole(context.Background(), log, []string{"login:"}, 400*time.Millisecond)
	if elapsed := time.Since(start); elapsed < 400*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("gave up after %s, want about 400ms", elapsed)
	}
	var ce *ConsoleError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConsoleTimeout) {
		t.Fatalf("err = %v, want *ConsoleError wrapping ErrConsoleTimeout", err)
	}
	tail := strings.Split(ce.Tail, "\n")
	if len(tail) != ConsoleTailLines || tail[0] != "line 11" || tail[29] != "line 40" {
		t.Fatalf("tail = %q, want lines 11..40 without escapes", tail)
	}
	if !strings.Contains(err.Error(), "line 40") || !strings.Contains(err.Error(), `"login:"`) {
		t.Fatalf("error text lacks pattern or console: %v", err)
	}
}

func TestWaitForConsoleContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := WaitForConsole(ctx, filepath.Join(t.TempDir(), "never"), []string{"login:"}, time.Minute)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "console is empty") {
		t.Fatalf("err = %v, want context.Canceled on an empty console", err)
	}
}

func TestWaitConsoleMachineExited(t *testing.T) {
	log := filepath.Join(t.TempDir(), "console.log")
	if err := os.WriteFile(log, []byte("Kernel panic - not syncing: VFS: Unable to mount root fs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exitErr := errors.New("exit status 1")
	_, err := waitConsole(context.Background(), log, []string{"login:"}, time.Minute,
		func() (bool, error) { return true, exitErr })
	if !errors.Is(err, ErrMachineExited) || !errors.Is(err, exitErr) || !strings.Contains(err.Error(), "Kernel panic") {
		t.Fatalf("err = %v, want ErrMachineExited with the exit error and console", err)
	}
}

func TestWaitConsoleMatchWrittenJustBeforeExit(t *testing.T) {
	log := filepath.Join(t.TempDir(), "console.log")
	if err := os.WriteFile(log, []byte("debian login: "), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := waitConsole(context.Background(), log, []string{"login:"}, time.Minute, func() (bool, error) { return true, nil })
	if err != nil || got != "login:" {
		t.Fatalf("waitConsole = %q, %v; want the match", got, err)
	}
}

func TestWaitForConsoleTruncatedFile(t *testing.T) {
	log := filepath.Join(t.TempDir(), "console.log")
	if err := os.WriteFile(log, []byte(strings.Repeat("old boot\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = os.WriteFile(log, []byte("new login: "), 0o644) // truncates, as QEMU does on start
	}()
	got, err := WaitForConsole(context.Background(), log, []string{"login:"}, 5*time.Second)
	if err != nil || got != "login:" {
		t.Fatalf("WaitForConsole = %q, %v", got, err)
	}
}

func TestWaitForConsoleNoPatterns(t *testing.T) {
	if _, err := WaitForConsole(context.Background(), "x", nil, time.Second); err == nil {
		t.Fatal("no error without patterns")
	}
}

func TestTailLines(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\r\nb\r\n\r\nc", 2, "b\nc"},
		{"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16)\r\n", 5, "SeaBIOS (version 1.16)"},
		{"", 3, ""},
		{"x  \n\n\n", 3, "x"},
		{"\x1b[=3h\x1b[=3hBdsDxe: failed\r\n", 3, "BdsDxe: failed"},
		{"Press Ctrl-B...\b \b\b \b\b \bnet0: up\x07\r\n", 3, "Press Ctrl-B...net0: up"},
	}
	for _, tt := range tests {
		if got := tailLines(tt.in, tt.n); got != tt.want {
			t.Errorf("tailLines(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func FuzzTailLines(f *testing.F) {
	f.Add("\x1b[0ma\r\nb", 2)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = n%50 + 50
		got := tailLines(s, n)
		if strings.Count(got, "\n") >= n || strings.ContainsAny(got, "\r\x1b\x08") {
			t.Fatalf("tailLines(%q, %d) = %q", s, n, got)
		}
	})
}
