package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/bakery-dev/bakery/internal/catalog"
	"github.com/bakery-dev/bakery/internal/release"
	"github.com/bakery-dev/bakery/internal/server/auth"
)

// ProblemType starts the type URI of every problem bakery returns.
const ProblemType = "https://bakery.dev/problems/"

// Problem is an RFC 9457 problem object (application/problem+json). A
// refused promotion adds the gate and what would satisfy it.
type Problem struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Detail  string `json:"detail"`
	Gate    string `json:"gate,omitempty"`
	Satisfy string `json:"satisfy,omitempty"`
}

func (p *Problem) Error() string { return p.Detail }

// Unwrap gives a problem received by a Client the sentinel of its status,
// so callers test remote and local errors alike with errors.Is.
func (p *Problem) Unwrap() []error {
	switch p.Status {
	case http.StatusBadRequest:
		return []error{ErrInvalid}
	case http.StatusUnauthorized:
		return []error{auth.ErrUnauthenticated}
	case http.StatusForbidden:
		return []error{auth.ErrForbidden}
	case http.StatusNotFound:
		return []error{release.ErrUnknown, catalog.ErrNotFound}
	case http.StatusConflict:
		if p.Gate != "" {
			return []error{release.ErrGate}
		}
		return []error{catalog.ErrConflict}
	case http.StatusNotImplemented:
		return []error{ErrNotImplemented}
	}
	return nil
}

// problemOf is the one place errors become statuses.
func problemOf(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	kind, status := kindOf(err)
	p = &Problem{Type: ProblemType + kind, Title: http.StatusText(status), Status: status, Detail: err.Error()}
	var gate *release.GateError
	if errors.As(err, &gate) {
		p.Gate, p.Satisfy = gate.Gate, gate.Satisfy
	}
	if status == http.StatusInternalServerError {
		p.Detail = "internal error"
	}
	return p
}

func kindOf(err error) (string, int) {
	for _, k := range []struct {
		err    error
		kind   string
		status int
	}{
		{auth.ErrUnauthenticated, "unauthenticated", http.StatusUnauthorized},
		{auth.ErrForbidden, "forbidden", http.StatusForbidden},
		{ErrInvalid, "invalid", http.StatusBadRequest},
		{catalog.ErrInvalid, "invalid", http.StatusBadRequest},
		{auth.ErrRole, "invalid", http.StatusBadRequest},
		{release.ErrUnknown, "not-found", http.StatusNotFound},
		{catalog.ErrNotFound, "not-found", http.StatusNotFound},
		{release.ErrGate, "gate", http.StatusConflict},
		{catalog.ErrConflict, "conflict", http.StatusConflict},
		{ErrRefused, "refused", http.StatusConflict},
		{ErrNotImplemented, "not-implemented", http.StatusNotImplemented},
	} {
		if errors.Is(err, k.err) {
			return k.kind, k.status
		}
	}
	return "internal", http.StatusInternalServerError
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", auth.Challenge)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// isGone reports whether the client went away.
func isGone(err error) bool { return errors.Is(err, context.Canceled) }
