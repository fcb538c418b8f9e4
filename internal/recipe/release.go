package recipe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bakery-dev/bakery/internal/version"
)

// Release-policy defaults, used when a recipe leaves version_scheme,
// channels or support out. They are not written into the canonical recipe,
// so recipes without a policy keep their digest.
var (
	DefaultVersionScheme = version.SemverSecurity
	DefaultChannels      = []Channel{{Name: "devel"}, {Name: "rolling"}, {Name: "stable", Soak: Duration(7 * 24 * time.Hour)}}
	DefaultSupport       = Support{NewerMinors: 3, MinWeeks: 4, MonthsAfterNextMajor: 12}
)

// Channel is one step of a product's promotion order. Soak is how long the
// previous channel must have held a version before it may enter this one.
type Channel struct {
	Name string   `yaml:"name" json:"name"`
	Soak Duration `yaml:"soak,omitempty" json:"soak,omitempty"`
}

// Support is a product's support policy: how long an older release line
// (MAJOR.MINOR) keeps getting security releases. A line reaches its end of
// life at the earliest date a rule gives:
//   - NewerMinors / MinWeeks: once NewerMinors newer lines of the same major
//     reached stable, and at least MinWeeks after the first of them did;
//   - MonthsAfterNextMajor: that many months after the next major reached
//     stable.
//
// A zero field turns its rule off.
type Support struct {
	NewerMinors          int `yaml:"newer_minors,omitempty" json:"newer_minors,omitempty"`
	MinWeeks             int `yaml:"min_weeks,omitempty" json:"min_weeks,omitempty"`
	MonthsAfterNextMajor int `yaml:"months_after_next_major,omitempty" json:"months_after_next_major,omitempty"`
}

// Scheme returns the recipe's version scheme, or the default.
func (r *Recipe) Scheme() string {
	if r.VersionScheme == "" {
		return DefaultVersionScheme
	}
	return r.VersionScheme
}

// ChannelOrder returns the recipe's channels, or the default ones.
func (r *Recipe) ChannelOrder() []Channel {
	if len(r.Channels) == 0 {
		return DefaultChannels
	}
	return r.Channels
}

// SupportPolicy returns the recipe's support policy, or the default.
func (r *Recipe) SupportPolicy() Support {
	if r.Support == nil {
		return DefaultSupport
	}
	return *r.Support
}

// Duration is a length of time written like 7d, 36h, 2w or 90m.
type Duration time.Duration

var durationPattern = regexp.MustCompile(`^([0-9]{1,6})(m|h|d|w)$`)

// ParseDuration parses "0" or a whole number of minutes (m), hours (h),
// days (d) or weeks (w).
func ParseDuration(s string) (Duration, error) {
	if s == "0" {
		return 0, nil
	}
	m := durationPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return Duration(time.Duration(n) * unit), nil
}

// String renders the duration in the largest unit that divides it.
func (d Duration) String() string {
	t := time.Duration(d)
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}} {
		if t != 0 && t%u.unit == 0 {
			return fmt.Sprintf("%d%s", t/u.unit, u.suffix)
		}
	}
	if t == 0 {
		return "0"
	}
	return t.String()
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func (d Duration) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

const durationHint = "a whole number of minutes, hours, days or weeks: 90m, 36h, 7d, 2w, or 0"

var channelPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

func decodeChannels(r *Recipe, n *yaml.Node) []*Error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return []*Error{at(n, problem("expected a list of channels, got "+kindName(n), "write `- devel`, or `- {name: stable, soak: 7d}`"))}
	}
	var errs []*Error
	r.Channels = []Channel{}
	for i, item := range n.Content {
		c, es := decodeChannel(resolve(item), i+1)
		r.Channels = append(r.Channels, c)
		errs = append(errs, es...)
	}
	return errs
}

func decodeChannel(n *yaml.Node, elem int) (Channel, []*Error) {
	var c Channel
	if n.Kind == yaml.ScalarNode {
		c.Name = n.Value
		return c, nil
	}
	errs := eachKey(n, "channels", []string{"name", "soak"}, func(key string, v *yaml.Node) []*Error {
		if key == "name" {
			return setString(&c.Name, v, "channels")
		}
		s, err := scalarString(v, "a duration such as 7d")
		if err != nil {
			return []*Error{err}
		}
		d, perr := ParseDuration(s)
		if perr != nil {
			return []*Error{fieldAt(v, "channels", problem(perr.Error(), durationHint))}
		}
		c.Soak = d
		return nil
	})
	for _, e := range errs {
		e.elem = elem
	}
	return c, errs
}

func checkChannels(r *Recipe) []*Error {
	var errs []*Error
	seen := map[string]bool{}
	for i, c := range r.Channels {
		var e *Error
		switch {
		case strings.HasPrefix(c.Name, "stable-"):
			e = problem(fmt.Sprintf("channel %q: stable-X.Y lines are made by bakery when a version reaches stable", c.Name), "list only the promotion order, e.g. devel, rolling, stable")
		case !channelPattern.MatchString(c.Name):
			e = problem(fmt.Sprintf("channel name %q must be lower-case letters, digits and '-', starting with a letter", c.Name), "e.g. devel, rolling, stable")
		case seen[c.Name]:
			e = problem(fmt.Sprintf("channel %q is listed twice", c.Name), "")
		}
		if e != nil {
			e.elem = i + 1
			errs = append(errs, e)
		}
		seen[c.Name] = true
	}
	if len(r.Channels) > 0 && !seen["stable"] {
		errs = append(errs, problem("the channels must include stable", "stable is the channel deployers follow and the one that makes stable-X.Y lines"))
	}
	return errs
}

func decodeSupport(r *Recipe, n *yaml.Node) []*Error {
	if isNull(n) {
		return nil
	}
	s := &Support{}
	errs := eachKey(n, "support", []string{"newer_minors", "min_weeks", "months_after_next_major"}, func(key string, v *yaml.Node) []*Error {
		dst := map[string]*int{"newer_minors": &s.NewerMinors, "min_weeks": &s.MinWeeks, "months_after_next_major": &s.MonthsAfterNextMajor}[key]
		return setCount(dst, v, "support."+key)
	})
	r.Support = s
	return errs
}

func setCount(dst *int, n *yaml.Node, field string) []*Error {
	if isNull(n) {
		return nil
	}
	i, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || err != nil || i < 0 || i > 1000 {
		return []*Error{fieldAt(n, field, problem("expected a whole number from 0 to 1000, got "+kindName(n)+" "+strconv.Quote(n.Value), ""))}
	}
	*dst = i
	return nil
}

func checkSupport(r *Recipe) []*Error {
	if s := r.Support; s != nil && s.NewerMinors == 0 && s.MonthsAfterNextMajor == 0 {
		return []*Error{problem("the support policy ends no line: set newer_minors or months_after_next_major", "e.g. newer_minors: 3, min_weeks: 4")}
	}
	return nil
}

func checkScheme(s string) *Error {
	if s == "" {
		return nil
	}
	return checkEnum(s, version.Schemes())
}

// checkVersionInScheme makes sure a literal version follows the recipe's
// scheme ("config" is checked at build time, against the tag).
func checkVersionInScheme(r *Recipe) []*Error {
	if checkScheme(r.VersionScheme) != nil || r.VersionScheme == "" || r.Version == VersionFromConfig {
		return nil
	}
	if _, err := version.Parse(r.VersionScheme, r.Version); err != nil {
		return []*Error{problem(err.Error(), "or change version_scheme")}
	}
	return nil
}
