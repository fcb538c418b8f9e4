package configtree

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const samplePuppetfile = `# The releng tree's backend modules.
forge "https://forgeapi.puppet.com"

mod 'puppetlabs-stdlib', :git => 'https://git.example.org/stdlib.git', :tag => '9.4.1'
mod 'apache_backend',
  :git    => '/srv/git/apache_backend.git',
  :commit => '0123456789abcdef0123456789abcdef01234567'
mod "acme/ntp", git: 'https://git.example.org/ntp.git', branch: "main"  # Ruby 1.9 keys
mod('vendored', :path => 'vendor/vendored-1.0.0.tar.gz')
mod 'webapp', :git => 'https://git.example.org/webapp.git' # default branch
`

func TestParsePuppetfile(t *testing.T) {
	p, err := ParsePuppetfile("Puppetfile", []byte(samplePuppetfile))
	if err != nil {
		t.Fatal(err)
	}
	want := []ModuleSpec{
		{Name: "puppetlabs-stdlib", Line: 4, Git: "https://git.example.org/stdlib.git", RefKind: "tag", Ref: "9.4.1"},
		{Name: "apache_backend", Line: 5, Git: "/srv/git/apache_backend.git", RefKind: "commit", Ref: "0123456789abcdef0123456789abcdef01234567"},
		{Name: "acme/ntp", Line: 8, Git: "https://git.example.org/ntp.git", RefKind: "branch", Ref: "main"},
		{Name: "vendored", Line: 9, Path: "vendor/vendored-1.0.0.tar.gz"},
		{Name: "webapp", Line: 10, Git: "https://git.example.org/webapp.git"},
	}
	if p.Forge != "https://forgeapi.puppet.com" || !reflect.DeepEqual(p.Modules, want) {
		t.Errorf("parsed %+v\nwant %+v", p, want)
	}
	names := []string{}
	for _, m := range p.Modules {
		names = append(names, m.InstallName())
	}
	if got := strings.Join(names, " "); got != "stdlib apache_backend ntp vendored webapp" {
		t.Errorf("install names %q", got)
	}
}

func TestParsePuppetfileErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		want     string
	}{
		{"unknown directive", "forge 'x'\nmoduledir 'm'\n", 2, `unknown directive "moduledir"`},
		{"forge module", "\nmod 'puppetlabs-stdlib', '9.0.0'\n", 2, "Forge modules need the internet"},
		{"no source", "mod 'a'\n", 1, "give :git => URL"},
		{"git and path", "mod 'a', :git => 'u', :path => 'p'\n", 1, "not both"},
		{"ref without git", "mod 'a',\n  :path => 'p',\n  :tag => '1'\n", 1, ":tag needs :git"},
		{"two pins", "mod 'a', :git => 'u',\n  :tag => '1',\n  :branch => 'b'\n", 3, "both :tag and :branch"},
		{"unknown option", "mod 'a', :git => 'u', :install_path => 'x'\n", 1, "unknown option :install_path"},
		{"option twice", "mod 'a', :git => 'u', :git => 'v'\n", 1, "given twice"},
		{"bad name", "mod 'Apache'\n", 1, `"Apache" is not a Puppet module name`},
		{"unclosed string", "mod 'a', :git => 'u\n", 1, "not closed"},
		{"interpolation", "mod 'a', :git => \"#{base}/a.git\"\n", 1, "interpolation"},
		{"missing comma", "mod 'a' :git => 'u'\n", 1, "expected `, :option => 'value'`"},
		{"missing value", "mod 'a', :git =>\n\nmod 'b'\n", 1, "expected `, :option => 'value'`"},
		{"stray character", "mod 'a'; mod 'b'\n", 1, "unexpected character ';'"},
		{"duplicate module", "mod 'puppetlabs-stdlib', :git => 'u'\nmod 'stdlib', :path => 'p'\n", 2, "also declared at line 1"},
		{"unclosed paren", "mod('a', :git => 'u'\n", 1, "missing )"},
		{"option starting with dash", "mod 'a', :git => '--upload-pack=x'\n", 1, "starts with -"},
		{"empty mod", "mod\n", 1, "needs a quoted module name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePuppetfile("Puppetfile", []byte(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "Puppetfile:") {
				t.Errorf("error %q, want line %d containing %q", err, tc.line, tc.want)
			}
		})
	}
}

func TestPuppetfileFormatRoundTrip(t *testing.T) {
	p, err := ParsePuppetfile("Puppetfile", []byte(samplePuppetfile))
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParsePuppetfile("formatted", []byte(p.Format()))
	if err != nil {
		t.Fatalf("%v\n%s", err, p.Format())
	}
	if !sameModules(p, again) {
		t.Errorf("round trip changed the Puppetfile:\n%s", p.Format())
	}
}

func sameModules(a, b *Puppetfile) bool {
	if a.Forge != b.Forge || len(a.Modules) != len(b.Modules) {
		return false
	}
	for i := range a.Modules {
		x, y := a.Modules[i], b.Modules[i]
		x.Line, y.Line = 0, 0
		if x != y {
			return false
		}
	}
	return true
}

// FuzzParsePuppetfile checks that the parser never panics, that every
// failure is a *ParseError with a line, and that what it accepts survives a
// round trip through Format.
func FuzzParsePuppetfile(f *testing.F) {
	f.Add([]byte(samplePuppetfile))
	f.Add([]byte("mod 'a', :git => 'u\\'x', :ref => \"r\\\"\"\n"))
	f.Add([]byte("mod(\n'a',\n:path=>'p')\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePuppetfile("fuzz", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error %v (%T) is not a positioned *ParseError", err, err)
			}
			return
		}
		again, err := ParsePuppetfile("formatted", []byte(p.Format()))
		if err != nil {
			t.Fatalf("reparsing Format(): %v\n%s", err, p.Format())
		}
		if !sameModules(p, again) {
			t.Fatalf("round trip changed the Puppetfile:\n%q\n%s", data, p.Format())
		}
	})
}
