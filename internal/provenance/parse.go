package provenance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bakery-dev/bakery/internal/lock"
)

// JSON encodes the statement canonically: keys sorted, two-space
// indentation, a trailing newline.
func (s Statement) JSON() ([]byte, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding provenance: %w", err)
	}
	return lock.Canonical(raw)
}

// Parse decodes a statement and checks it with Validate.
func Parse(data []byte) (Statement, error) {
	var s Statement
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return Statement{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.Validate(); err != nil {
		return Statement{}, err
	}
	return s, nil
}

// Validate checks the fields in-toto and SLSA require and those bakery
// always writes: the types, at least one subject, each with a name and a
// sha256, the build type, the builder's ID, the invocation ID and times,
// and an URI or digest on every dependency. Errors wrap ErrInvalid.
func (s Statement) Validate() error {
	if s.Type != StatementType {
		return fmt.Errorf("%w: _type %q, want %q", ErrInvalid, s.Type, StatementType)
	}
	if s.PredicateType != PredicateType {
		return fmt.Errorf("%w: predicateType %q, want %q", ErrInvalid, s.PredicateType, PredicateType)
	}
	if len(s.Subject) == 0 {
		return fmt.Errorf("%w: no subject", ErrInvalid)
	}
	for _, sub := range s.Subject {
		if sub.Name == "" || !isSHA256(sub.Digest["sha256"]) {
			return fmt.Errorf("%w: subject %q needs a name and a sha256 digest", ErrInvalid, sub.Name)
		}
	}
	return s.Predicate.validate()
}

func (p Provenance) validate() error {
	bd, rd := p.BuildDefinition, p.RunDetails
	for _, f := range []struct{ name, value string }{
		{"buildDefinition.buildType", bd.BuildType},
		{"buildDefinition.externalParameters.recipe.digest", bd.ExternalParameters.Recipe.Digest},
		{"runDetails.builder.id", rd.Builder.ID},
		{"runDetails.metadata.invocationId", rd.Metadata.InvocationID},
	} {
		if f.value == "" {
			return fmt.Errorf("%w: %s is missing", ErrInvalid, f.name)
		}
	}
	if rd.Metadata.StartedOn.IsZero() || rd.Metadata.FinishedOn.Before(rd.Metadata.StartedOn) {
		return fmt.Errorf("%w: runDetails.metadata: startedOn %s, finishedOn %s", ErrInvalid, rd.Metadata.StartedOn, rd.Metadata.FinishedOn)
	}
	for _, d := range bd.ResolvedDependencies {
		if d.URI == "" && len(d.Digest) == 0 {
			return fmt.Errorf("%w: dependency %q has neither uri nor digest", ErrInvalid, d.Name)
		}
	}
	return nil
}

func isSHA256(h string) bool {
	return len(h) == 64 && strings.Trim(h, "0123456789abcdef") == ""
}
