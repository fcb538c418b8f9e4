// Package progress defines the structured events that long work reports.
// Libraries emit events through a Sink; the CLI renders them (live line on a
// terminal, timestamped lines otherwise, JSON lines with --json) and the
// server can stream the same events.
package progress

import (
	"sync"
	"time"
)

// Kind says what an event reports.
type Kind string

const (
	StageStart Kind = "stage-start"
	StageDone  Kind = "stage-done"
	StageFail  Kind = "stage-fail"
	Bytes      Kind = "bytes" // Done/Total bytes of the current stage
	Info       Kind = "info"  // a message worth showing
)

// Event is one progress report.
type Event struct {
	Time    time.Time     `json:"time"`
	Kind    Kind          `json:"kind"`
	Stage   string        `json:"stage,omitempty"`
	Message string        `json:"message,omitempty"`
	Done    int64         `json:"done,omitempty"`
	Total   int64         `json:"total,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
}

// Sink receives events. Implementations must be safe for concurrent use.
type Sink interface {
	Emit(Event)
}

// Discard drops every event.
var Discard Sink = SinkFunc(func(Event) {})

// SinkFunc adapts a function to a Sink.
type SinkFunc func(Event)

func (f SinkFunc) Emit(e Event) { f(e) }

// Recorder keeps every event, for tests.
type Recorder struct {
	mu     sync.Mutex
	Events []Event
}

func (r *Recorder) Emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Events = append(r.Events, e)
}

// Stage reports the start of a stage and returns a function that reports its
// end (done or failed, with the elapsed time).
func Stage(s Sink, name string) func(err error) {
	start := time.Now()
	s.Emit(Event{Time: start, Kind: StageStart, Stage: name})
	return func(err error) {
		e := Event{Time: time.Now(), Kind: StageDone, Stage: name, Elapsed: time.Since(start)}
		if err != nil {
			e.Kind, e.Message = StageFail, err.Error()
		}
		s.Emit(e)
	}
}
