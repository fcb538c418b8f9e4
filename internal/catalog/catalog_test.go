package catalog

import (
	"errors"
	"testing"
	"time"
)

func TestNextSerial(t *testing.T) {
	at := time.Date(2026, 11, 21, 14, 59, 59, 0, time.UTC)
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		t    time.Time
		used []string
		want string
	}{
		{"free", at, nil, "2026112114"},
		{"other hours used", at, []string{"2026112113", "2026112115"}, "2026112114"},
		{"taken", at, []string{"2026112114"}, "2026112114.1"},
		{"two taken", at, []string{"2026112114.1", "2026112114"}, "2026112114.2"},
		{"gap is reused", at, []string{"2026112114", "2026112114.2"}, "2026112114.1"},
		{"suffix only", at, []string{"2026112114.1"}, "2026112114"},
		{"local time is converted to UTC", time.Date(2026, 11, 21, 0, 30, 0, 0, cet), nil, "2026112023"},
		{"year boundary in UTC", time.Date(2027, 1, 1, 0, 10, 0, 0, cet), []string{"2026123123"}, "2026123123.1"},
		{"ten taken", at, []string{"2026112114", "2026112114.1", "2026112114.2", "2026112114.3", "2026112114.4",
			"2026112114.5", "2026112114.6", "2026112114.7", "2026112114.8", "2026112114.9"}, "2026112114.10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextSerial(tt.t, tt.used); got != tt.want {
				t.Errorf("NextSerial(%v, %v) = %q, want %q", tt.t, tt.used, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Image{Name: "n", Product: "p", Serial: "2026112114", CreatedAt: time.Unix(1, 0)}
	tests := []struct {
		name   string
		change func(*Image)
		valid  bool
	}{
		{"minimal", func(*Image) {}, true},
		{"no name", func(i *Image) { i.Name = "" }, false},
		{"no product", func(i *Image) { i.Product = "" }, false},
		{"no serial", func(i *Image) { i.Serial = "" }, false},
		{"no time", func(i *Image) { i.CreatedAt = time.Time{} }, false},
		{"artifacts", func(i *Image) { i.Artifacts = []Artifact{{Filename: "a"}, {Filename: "b"}} }, true},
		{"repeated artifact", func(i *Image) { i.Artifacts = []Artifact{{Filename: "a"}, {Filename: "a"}} }, false},
		{"unnamed artifact", func(i *Image) { i.Artifacts = []Artifact{{Kind: KindRaw}} }, false},
		{"multiarch packages", func(i *Image) {
			i.Packages = []Package{{Name: "libc6", Arch: "amd64"}, {Name: "libc6", Arch: "i386"}}
		}, true},
		{"repeated package", func(i *Image) {
			i.Packages = []Package{{Name: "libc6", Arch: "amd64", Version: "1"}, {Name: "libc6", Arch: "amd64", Version: "2"}}
		}, false},
		{"unnamed package", func(i *Image) { i.Packages = []Package{{Version: "1"}} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := ok
			tt.change(&img)
			err := img.Validate()
			if (err == nil) != tt.valid {
				t.Errorf("Validate() = %v, want valid=%v", err, tt.valid)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("Validate() = %v, does not wrap ErrInvalid", err)
			}
		})
	}
}
