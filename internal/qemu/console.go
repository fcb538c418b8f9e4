package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// Console watching errors, matched with errors.Is.
var (
	ErrConsoleTimeout = errors.New("timed out")
	ErrMachineExited  = errors.New("machine exited")
)

// ConsolePoll is how often WaitForConsole looks at the console file.
const ConsolePoll = 150 * time.Millisecond

// ConsoleTailLines is how many console lines a ConsoleError carries.
const ConsoleTailLines = 30

// ConsoleError says which patterns never appeared on a console, why the
// wait ended and what the console said last.
type ConsoleError struct {
	Log      string   // the console file
	Patterns []string // what was awaited
	Tail     string   // the last ConsoleTailLines lines, escape sequences removed
	Err      error    // ErrConsoleTimeout, ErrMachineExited (with the exit error) or a context error
}

func (e *ConsoleError) Error() string {
	msg := fmt.Sprintf("waiting for %q on console %s: %v", e.Patterns, e.Log, e.Err)
	if e.Tail == "" {
		return msg + " (the console is empty)"
	}
	return msg + fmt.Sprintf("\n--- last %d lines of the console ---\n%s", ConsoleTailLines, e.Tail)
}

func (e *ConsoleError) Unwrap() error { return e.Err }

// WaitForConsole follows the file a serial console is written to until one
// of patterns appears in it and returns that pattern (the one that appears
// first in the file). It gives up after timeout or when ctx ends with a
// *ConsoleError that includes the console's last lines. The file may not
// exist yet when the wait starts.
func WaitForConsole(ctx context.Context, logPath string, patterns []string, timeout time.Duration) (string, error) {
	return waitConsole(ctx, logPath, patterns, timeout, nil)
}

// waitConsole is WaitForConsole that also stops when exited yields an error
// (the machine writing the console is gone).
func waitConsole(ctx context.Context, logPath string, patterns []string, timeout time.Duration, exited func() (bool, error)) (string, error) {
	if len(patterns) == 0 {
		return "", errors.New("waiting for console: no patterns")
	}
	c := &consoleTail{path: logPath, patterns: patterns}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(ConsolePoll)
	defer tick.Stop()
	for {
		gone, exitErr := false, error(nil)
		if exited != nil {
			gone, exitErr = exited() // before reading: nothing is written after exit
		}
		if m, err := c.poll(); err != nil || m != "" {
			return m, err
		}
		if gone {
			return "", c.fail(fmt.Errorf("%w: %w", ErrMachineExited, exitOrNil(exitErr)))
		}
		select {
		case <-ctx.Done():
			return "", c.fail(ctx.Err())
		case <-deadline.C:
			if m, err := c.poll(); err != nil || m != "" {
				return m, err
			}
			return "", c.fail(fmt.Errorf("%w after %s", ErrConsoleTimeout, timeout))
		case <-tick.C:
		}
	}
}

func exitOrNil(err error) error {
	if err == nil {
		return errors.New("exit status 0")
	}
	return err
}

// consoleTail reads what was appended to a console file since the last poll.
type consoleTail struct {
	path     string
	patterns []string
	offset   int64
	carry    []byte // the end of what was read before, for patterns split across reads
}

func (c *consoleTail) poll() (string, error) {
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading console %s: %w", c.path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < c.offset {
		c.offset, c.carry = 0, nil // truncated: start over
	}
	data, err := io.ReadAll(io.NewSectionReader(f, c.offset, 1<<62))
	if err != nil {
		return "", fmt.Errorf("reading console %s: %w", c.path, err)
	}
	c.offset += int64(len(data))
	window := append(c.carry, data...)
	if m := firstMatch(window, c.patterns); m != "" {
		return m, nil
	}
	c.carry = lastBytes(window, maxLen(c.patterns)-1)
	return "", nil
}

func (c *consoleTail) fail(err error) error {
	return &ConsoleError{Log: c.path, Patterns: c.patterns, Tail: ConsoleTail(c.path, ConsoleTailLines), Err: err}
}

// firstMatch returns the pattern that occurs earliest in b.
func firstMatch(b []byte, patterns []string) string {
	best, at := "", -1
	for _, p := range patterns {
		if i := bytes.Index(b, []byte(p)); i >= 0 && (at < 0 || i < at) {
			best, at = p, i
		}
	}
	return best
}

func maxLen(patterns []string) int {
	n := 1
	for _, p := range patterns {
		n = max(n, len(p))
	}
	return n
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return append([]byte(nil), b...)
}

// ansiEscape matches terminal control sequences firmware and consoles emit
// (CSI sequences such as "ESC [ = 3 h", and two-byte ones such as "ESC c").
var ansiEscape = regexp.MustCompile(`\x1b(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_]|[c78=>])`)

// eraseBackspace matches a character rubbed out with backspace-space-backspace,
// as spinners and countdowns do.
var eraseBackspace = regexp.MustCompile(`\x08 \x08`)

// ConsoleTail returns the last n non-empty lines of a console file, with
// terminal escape sequences and carriage returns removed; "" when the file
// is missing or empty.
func ConsoleTail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 64 << 10
	var start int64
	if fi, err := f.Stat(); err == nil && fi.Size() > window {
		start = fi.Size() - window
	}
	data, _ := io.ReadAll(io.NewSectionReader(f, start, window))
	return tailLines(string(data), n)
}

func tailLines(s string, n int) string {
	s = ansiEscape.ReplaceAllString(s, "")
	s = eraseBackspace.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return -1 // other control characters
		}
		return r
	}, s)
	var lines []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " \t"))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
