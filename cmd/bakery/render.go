package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/bakery-dev/bakery/internal/progress"
)

// sink chooses how progress is shown: nothing (--quiet), JSON event lines
// (--json), a live line on a terminal, or timestamped lines otherwise.
func (g *globals) sink() progress.Sink {
	switch {
	case g.quiet:
		return progress.Discard
	case g.json:
		return &jsonSink{w: g.stderr}
	case isTerminal(g.stderr):
		return &liveSink{w: g.stderr}
	default:
		return &lineSink{w: g.stderr}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type jsonSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *jsonSink) Emit(e progress.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := json.Marshal(e)
	fmt.Fprintf(s.w, "%s\n", b)
}

// lineSink prints one timestamped line per event, for logs and CI.
type lineSink struct {
	mu        sync.Mutex
	w         io.Writer
	lastBytes time.Time
}

// bytesEvery is how often a plain log shows byte counts of one stage.
const bytesEvery = 5 * time.Second

func (s *lineSink) Emit(e progress.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if e.Kind == progress.Bytes {
		if now.Sub(s.lastBytes) < bytesEvery && e.Done < e.Total {
			return
		}
		s.lastBytes = now
	}
	fmt.Fprintf(s.w, "%s %s\n", now.UTC().Format("15:04:05"), describe(e))
}

func describe(e progress.Event) string {
	switch e.Kind {
	case progress.StageStart:
		return fmt.Sprintf("%-10s started", e.Stage)
	case progress.StageDone:
		return fmt.Sprintf("%-10s done in %s", e.Stage, e.Elapsed.Round(100*time.Millisecond))
	case progress.StageFail:
		return fmt.Sprintf("%-10s FAILED after %s", e.Stage, e.Elapsed.Round(100*time.Millisecond))
	case progress.Bytes:
		return fmt.Sprintf("%-10s %s", e.Stage, bytesDone(e.Done, e.Total))
	default:
		return fmt.Sprintf("%-10s %s", e.Stage, e.Message)
	}
}

func bytesDone(done, total int64) string {
	if total > 0 {
		return fmt.Sprintf("%.1f / %.1f MiB (%d%%)", mib(done), mib(total), done*100/total)
	}
	return fmt.Sprintf("%.1f MiB", mib(done))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// liveSink redraws one status line per running stage and leaves a line per
// finished stage.
type liveSink struct {
	mu      sync.Mutex
	w       io.Writer
	started time.Time
	stage   string
}

func (s *liveSink) Emit(e progress.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case progress.StageStart:
		s.stage, s.started = e.Stage, e.Time
		s.draw(e.Stage + " …")
	case progress.StageDone, progress.StageFail:
		mark := "✓"
		if e.Kind == progress.StageFail {
			mark = "✗"
		}
		fmt.Fprintf(s.w, "\r\033[K%s %-10s %s\n", mark, e.Stage, e.Elapsed.Round(100*time.Millisecond))
	case progress.Bytes:
		s.draw(fmt.Sprintf("%s %s", e.Stage, bytesDone(e.Done, e.Total)))
	default:
		s.draw(fmt.Sprintf("%s %s", e.Stage, e.Message))
	}
}

func (s *liveSink) draw(msg string) {
	el := time.Since(s.started).Round(time.Second)
	line := fmt.Sprintf("  [%s] %s", el, msg)
	if len(line) > 100 {
		line = line[:100]
	}
	fmt.Fprintf(s.w, "\r\033[K%s", strings.TrimRight(line, "\n"))
}
