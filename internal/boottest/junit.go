package boottest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, the shape CI systems (Jenkins, GitLab, GitHub actions)
// read: one suite per boot plus one for the offline checks and one for the
// comparisons across boots.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r Report) error {
	doc := junitSuites{Name: "bakery test " + r.Image, Time: seconds(r.Duration.Seconds())}
	for _, name := range suiteNames(r.Checks) {
		s := junitSuite{Name: name}
		var total float64
		for _, c := range r.Checks {
			if suiteOf(c) != name {
				continue
			}
			s.Cases = append(s.Cases, junitCaseOf(c))
			total += c.Duration.Seconds()
			s.Tests++
			if c.Failed() {
				s.Failures++
			}
			if c.Skipped {
				s.Skipped++
			}
		}
		s.Time = seconds(total)
		doc.Tests, doc.Failures, doc.Skipped = doc.Tests+s.Tests, doc.Failures+s.Failures, doc.Skipped+s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// suiteOf names the suite of a check: its firmware, "offline" for
// hygiene checks, "across-boots" for comparisons.
func suiteOf(c Check) string {
	switch {
	case c.Firmware != "":
		return string(c.Firmware)
	case strings.HasPrefix(c.Name, HygienePrefix) || c.Name == "hygiene":
		return "offline"
	default:
		return "across-boots"
	}
}

// suiteNames lists the suites in the order their first check appears.
func suiteNames(checks []Check) []string {
	var names []string
	seen := map[string]bool{}
	for _, c := range checks {
		if n := suiteOf(c); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

func junitCaseOf(c Check) junitCase {
	jc := junitCase{Name: c.Name, ClassName: "bakery." + suiteOf(c), Time: seconds(c.Duration.Seconds()), SystemOut: c.Output}
	switch {
	case c.Skipped:
		jc.Skipped = &junitMessage{Message: firstLine(c.Evidence)}
	case !c.Passed:
		jc.Failure = &junitMessage{Message: firstLine(c.Evidence), Text: c.Evidence}
	default:
		if jc.SystemOut == "" {
			jc.SystemOut = c.Evidence
		}
	}
	return jc
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }
