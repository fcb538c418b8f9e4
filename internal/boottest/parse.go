package boottest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Release is what /etc/bakery/release says about an image, or what the
// catalog says it should say.
type Release struct {
	Name    string `json:"name"`
	Product string `json:"product"`
	Version string `json:"version"`
	BuildID string `json:"build_id"`
}

// ParseRelease reads the KEY="value" lines of /etc/bakery/release
// (values quoted as Go and the shell both read them). Unknown keys and
// malformed lines are ignored.
func ParseRelease(s string) Release {
	var r Release
	fields := map[string]*string{
		"BAKERY_NAME": &r.Name, "BAKERY_PRODUCT": &r.Product,
		"BAKERY_VERSION": &r.Version, "BAKERY_BUILD_ID": &r.BuildID,
	}
	for _, line := range strings.Split(s, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		dst, known := fields[key]
		if !ok || !known {
			continue
		}
		if uq, err := strconv.Unquote(value); err == nil {
			value = uq
		}
		*dst = value
	}
	return r
}

// diff names the fields of got that differ from r ("" when none does).
// An empty Name in r is not compared.
func (r Release) diff(got Release) string {
	var out []string
	for _, f := range []struct{ name, want, got string }{
		{"product", r.Product, got.Product},
		{"version", r.Version, got.Version}, {"build id", r.BuildID, got.BuildID},
	} {
		if f.want != f.got {
			out = append(out, fmt.Sprintf("%s %q, want %q", f.name, f.got, f.want))
		}
	}
	return strings.Join(out, "; ")
}

// cloudInitStatus takes the status from the output of cloud-init status
// (--wait prints progress dots before it).
func cloudInitStatus(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimLeft(line, ". "), "status:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cloudInitResult is /run/cloud-init/result.json, written when cloud-init
// has finished its last stage.
type cloudInitResult struct {
	Datasource string   `json:"datasource"`
	Errors     []string `json:"errors"`
}

func parseCloudInitResult(b []byte) (cloudInitResult, error) {
	var doc struct {
		V1 *cloudInitResult `json:"v1"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return cloudInitResult{}, err
	}
	if doc.V1 == nil {
		return cloudInitResult{}, fmt.Errorf("no v1 section")
	}
	return *doc.V1, nil
}

// tapSummary summarises TAP output (Test Anything Protocol): the plan,
// how many tests passed and the first failures. "" when out is not TAP.
func tapSummary(out string) string {
	var ok, notOK int
	var plan string
	var failures []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "not ok"):
			notOK++
			if len(failures) < 3 {
				failures = append(failures, line)
			}
		case line == "ok" || strings.HasPrefix(line, "ok "):
			ok++
		case plan == "" && strings.HasPrefix(line, "1.."):
			plan = line
		}
	}
	if ok+notOK == 0 && plan == "" {
		return ""
	}
	s := fmt.Sprintf("TAP %d/%d ok", ok, ok+notOK)
	if plan != "" {
		s += " (plan " + plan + ")"
	}
	if len(failures) > 0 {
		s += ": " + strings.Join(failures, "; ")
	}
	return s
}
