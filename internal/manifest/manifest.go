// Package manifest describes what a build produced: the build manifest
// (identity, packages, artifacts, hygiene, tools, recipe) and the SPDX 2.3
// software bill of materials of the image.
package manifest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bakery-dev/bakery/internal/hygiene"
)

// Artifact is one file a build produced.
type Artifact struct {
	Kind     string `json:"kind"` // qcow2, raw, rootfs, sbom, ...
	Filename string `json:"filename"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
}

// Manifest is the record of one build.
type Manifest struct {
	Name          string            `json:"name"`
	Product       string            `json:"product"`
	Version       string            `json:"version"`
	Serial        string            `json:"serial"`
	BuildID       string            `json:"build_id"`
	RecipeDigest  string            `json:"recipe_digest"`
	Distro        string            `json:"distro"`
	Release       string            `json:"release"`
	Arch          string            `json:"arch"`
	ConfigRef     string            `json:"config_ref,omitempty"`    // the config tree's ref, when the image has one
	ConfigCommit  string            `json:"config_commit,omitempty"` // the commit that ref resolved to
	CreatedAt     time.Time         `json:"created_at"`
	BuildDuration Duration          `json:"build_duration"` // seconds
	Packages      []Package         `json:"packages"`
	Artifacts     []Artifact        `json:"artifacts"`
	Hygiene       hygiene.Report    `json:"hygiene"`
	Tools         map[string]string `json:"tools"`
	Recipe        json.RawMessage   `json:"recipe,omitempty"`
}

// JSON encodes the manifest with two-space indentation and a trailing
// newline. The output depends only on the content: the time is in UTC,
// packages and artifacts are sorted, map keys are sorted, and empty lists
// are written as [] rather than null.
func (m Manifest) JSON() ([]byte, error) {
	m.CreatedAt = m.CreatedAt.UTC()
	m.Packages = slices.Clone(m.Packages)
	slices.SortFunc(m.Packages, comparePackages)
	m.Artifacts = slices.Clone(m.Artifacts)
	slices.SortFunc(m.Artifacts, func(a, b Artifact) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Filename, b.Filename))
	})
	m.Packages = nonNil(m.Packages)
	m.Artifacts = nonNil(m.Artifacts)
	m.Hygiene = nonNil(m.Hygiene)
	if m.Tools == nil {
		m.Tools = map[string]string{}
	}
	return encodeJSON(m)
}

// Parse decodes a manifest written by JSON.
func Parse(data []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("decoding manifest: %w", err)
	}
	return m, nil
}

func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}

// encodeJSON indents v without escaping <, > and & (purls hold &).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Duration is a time.Duration written in JSON as seconds (a number).
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(d).Seconds(), 'f', -1, 64), nil
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(s, 0) || math.Abs(s) > math.MaxInt64/float64(time.Second) {
		return fmt.Errorf("decoding duration %s: want seconds", b)
	}
	*d = Duration(math.Round(s * float64(time.Second)))
	return nil
}
