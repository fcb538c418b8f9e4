package lock

import (
	"errors"
	"testing"
)

func TestUpdate(t *testing.T) {
	pkg := func(name, version, arch string) Package {
		return Package{Name: name, Version: version, Architecture: arch, SHA256: name + version, Suite: "bookworm"}
	}
	base := &Lock{
		Suites:   []Suite{{Name: "bookworm-security", InReleaseSHA256: "old"}},
		Packages: []Package{pkg("libc6", "2.36-9", "amd64"), pkg("openssl", "3.0.1", "amd64"), pkg("zlib1g", "1.2", "amd64")},
	}
	fresh := &Lock{
		Suites:   []Suite{{Name: "bookworm-security", InReleaseSHA256: "new"}},
		Packages: []Package{pkg("libc6", "2.36-10", "amd64"), pkg("openssl", "3.0.2", "amd64"), pkg("zlib1g", "1.3", "amd64")},
	}
	got, err := Update(base, fresh, []string{"openssl"})
	if err != nil {
		t.Fatal(err)
	}
	c := Diff(base, got)
	if len(c.Upgraded) != 1 || c.Upgraded[0].Name != "openssl" || c.Upgraded[0].To != "3.0.2" || len(c.Added)+len(c.Removed) != 0 {
		t.Errorf("changelog %+v: want only openssl upgraded to 3.0.2", c)
	}
	if got.Suites[0].InReleaseSHA256 != "new" || base.Suites[0].InReleaseSHA256 != "old" || base.Packages[1].Version != "3.0.1" {
		t.Errorf("suites %+v, base changed: %+v", got.Suites, base.Packages)
	}
	if _, err := Update(base, fresh, []string{"bash"}); !errors.Is(err, ErrNotLocked) {
		t.Errorf("updating a package the image lacks: %v, want ErrNotLocked", err)
	}
	gone := &Lock{Packages: []Package{pkg("libc6", "2.36-10", "amd64")}}
	if _, err := Update(base, gone, []string{"zlib1g"}); err == nil {
		t.Error("updating a package the mirror dropped succeeded")
	}
}
