package recipe

import (
	"strings"
	"testing"
)

func TestImageName(t *testing.T) {
	tests := []struct {
		name   string
		recipe string
		serial string
		want   string
	}{
		{"default template", "name: debian-cloud\nversion: 0.1.0\n", "2026112114", "debian-bookworm.amd64-0.1.0-2026112114"},
		{"every placeholder", "name: cloud\nversion: 2.0.0\nrelease: trixie\nname_template: '{product}_{distro}_{release}_{arch}_{version}_{serial}'\n", "2026010100",
			"cloud_debian_trixie_amd64_2.0.0_2026010100"},
		{"repeated placeholder", "name: cloud\nversion: '1'\nname_template: '{serial}.{serial}'\n", "7", "7.7"},
		{"no placeholders", "name: cloud\nversion: '1'\nname_template: fixed-name\n", "7", "fixed-name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, tc.recipe).ImageName(tc.serial); got != tc.want {
				t.Errorf("ImageName(%q) = %q, want %q", tc.serial, got, tc.want)
			}
		})
	}
}

func TestImageNameWithoutParse(t *testing.T) {
	r := &Recipe{Name: "x", Version: "1"}
	if got, want := r.ImageName("s"), "debian-bookworm.amd64-1-s"; got != want {
		t.Errorf("ImageName = %q, want %q (defaults apply)", got, want)
	}
}

func TestCheckTemplate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{distro}-{release}.{arch}-{version}-{serial}", ""},
		{"plain_name+1~2", ""},
		{"{product}", ""},
		{"{Product}", "unknown placeholder {Product} (did you mean {product}?"},
		{"{}", "unknown placeholder {}"},
		{"{a{b}", "unknown placeholder {a{b}"},
		{"a}", "has a `}` without `{`"},
		{"{serial", "has a `{` without `}`"},
		{"x {serial}", `character ' ' is not allowed`},
		{"{serial}/x", `character '/' is not allowed`},
		{"é", `character 'é' is not allowed`},
	}
	for _, tc := range tests {
		e := checkTemplate(tc.in)
		switch {
		case tc.want == "" && e != nil:
			t.Errorf("checkTemplate(%q) = %v", tc.in, e)
		case tc.want != "" && (e == nil || !strings.Contains(e.Error(), tc.want)):
			t.Errorf("checkTemplate(%q) = %v, want %q", tc.in, e, tc.want)
		}
	}
}
