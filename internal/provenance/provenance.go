// Package provenance makes and reads the provenance of an image: an in-toto
// Statement v1 whose predicate is SLSA Provenance v1. The subjects are the
// files the build produced; the build definition names the recipe and lock
// (external parameters), bakery's format salt (internal parameters) and
// every input with its digest (resolved dependencies); the run details
// name the builder (bakery's version and the host tool versions) and the
// build's ID and times.
//
// Generation is pure: New turns values into a Statement, JSON encodes it
// canonically and Parse reads one back, checking the required fields.
package provenance

import (
	"encoding/json"
	"errors"
	"time"
)

// The fixed URIs of a bakery statement.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType defines ExternalParameters and InternalParameters (see
	// docs/lock.md, "Provenance").
	BuildType = "https://github.com/bakery-dev/bakery/buildtypes/image/v1"
	// BuilderID names a bakery run on one machine (no hosted builder).
	BuilderID = "https://github.com/bakery-dev/bakery/builders/local/v1"
)

// ErrInvalid is wrapped by Parse and Validate for a statement that lacks a
// required field or has the wrong type.
var ErrInvalid = errors.New("invalid provenance statement")

// Statement is an in-toto Statement v1 with an SLSA Provenance v1 predicate.
type Statement struct {
	Type          string               `json:"_type"`
	Subject       []ResourceDescriptor `json:"subject"`
	PredicateType string               `json:"predicateType"`
	Predicate     Provenance           `json:"predicate"`
}

// ResourceDescriptor is in-toto's description of an artifact: a subject or
// a dependency. At least one of URI and Digest is set.
type ResourceDescriptor struct {
	URI              string            `json:"uri,omitempty"`
	Digest           map[string]string `json:"digest,omitempty"` // algorithm → hex ("sha256", "gitCommit")
	Name             string            `json:"name,omitempty"`
	DownloadLocation string            `json:"downloadLocation,omitempty"`
	MediaType        string            `json:"mediaType,omitempty"`
	Annotations      map[string]string `json:"annotations,omitempty"`
}

// Provenance is the SLSA Provenance v1 predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition is what the build was asked to do and from what.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   InternalParameters   `json:"internalParameters"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
}

// ExternalParameters are the user's inputs: the recipe and its lock, and
// where its relative parts (config repository, elements, tests) were found.
type ExternalParameters struct {
	Recipe         Recipe   `json:"recipe"`
	Lock           *Lock    `json:"lock,omitempty"` // nil for an unlocked build
	ElementsPath   []string `json:"elementsPath,omitempty"`
	Mirror         string   `json:"mirror,omitempty"`
	SecurityMirror string   `json:"securityMirror,omitempty"`
}

// Recipe is the effective recipe of the build.
type Recipe struct {
	Digest  string          `json:"digest"`         // sha256 of Content
	Content json.RawMessage `json:"content"`        // the canonical recipe (JSON)
	Path    string          `json:"path,omitempty"` // the recipe file, absolute
	Dir     string          `json:"dir,omitempty"`  // its directory, absolute: relative config repositories, elements/ and tests resolve from here
}

// Lock names the lock a locked build used and the artifact that keeps it.
type Lock struct {
	Digest string `json:"digest"`         // sha256 of the canonical lock
	File   string `json:"file,omitempty"` // the image's lock artifact, NAME.lock.json
}

// InternalParameters are bakery's own settings that shape the output.
type InternalParameters struct {
	FormatSalt      string `json:"formatSalt"`
	SourceDateEpoch int64  `json:"sourceDateEpoch"`
}

// RunDetails are who built it, when, and under which ID.
type RunDetails struct {
	Builder  Builder  `json:"builder"`
	Metadata Metadata `json:"metadata"`
}

// Builder is the program that built the image: bakery's version and the
// versions of the host tools it ran.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Metadata identifies the run: the build ID and its start and end.
type Metadata struct {
	InvocationID string    `json:"invocationId"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}
