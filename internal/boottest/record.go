package boottest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/bakery-dev/bakery/internal/catalog"
)

// QAResult is the report as the catalog records it, with the artifacts
// kept of the run (report, JUnit, consoles). Recipe test output stays in
// the JSON report.
func (r Report) QAResult(artifacts []catalog.Artifact) catalog.QAResult {
	q := catalog.QAResult{
		Passed: r.Passed, Accel: string(r.Accel), BootToSSH: r.BootToSSH(),
		TestedAt: r.Started, Duration: r.Duration, Artifacts: artifacts,
	}
	for _, b := range r.Boots {
		q.Firmwares = append(q.Firmwares, string(b.Firmware))
		q.Boots = append(q.Boots, catalog.QABoot{Firmware: string(b.Firmware), Passed: b.Passed, BootToSSH: b.BootToSSH})
	}
	for _, c := range r.Checks {
		q.Checks = append(q.Checks, catalog.QACheck{Name: c.Name, Firmware: string(c.Firmware), Passed: c.Passed,
			Skipped: c.Skipped, Duration: c.Duration, Evidence: c.Evidence})
	}
	return q
}

// JSON returns the report as indented JSON.
func (r Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding report: %w", err)
	}
	return append(b, '\n'), nil
}

// JUnit returns the report as JUnit XML.
func (r Report) JUnit() ([]byte, error) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
