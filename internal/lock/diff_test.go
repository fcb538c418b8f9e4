package lock

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	old := sampleLock()
	new := sampleLock()
	new.Packages[0].Version = "2.36-9+deb12u15" // libc6 upgraded
	new.Packages[1].Version = "2.6.1"           // apt downgraded
	new.Packages = append(new.Packages, Package{Name: "curl", Version: "7.88.1-10+deb12u14", Architecture: "amd64"})
	old.Packages = append(old.Packages, Package{Name: "wget", Version: "1.21.3-1+deb12u1", Architecture: "amd64"},
		Package{Name: "tzdata", Version: "2025b-0+deb12u1", Architecture: "all", SHA256: "a"})
	new.Packages = append(new.Packages, Package{Name: "tzdata", Version: "2025b-0+deb12u1", Architecture: "all", SHA256: "b"})
	new.Tools = map[string]string{"mmdebstrap": "mmdebstrap 1.5.0", "e2fsprogs": old.Tools["e2fsprogs"]}
	c := Diff(old, new)
	var text bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := `upgraded (1):
  libc6 2.36-9+deb12u14 -> 2.36-9+deb12u15
downgraded (1):
  apt 2.6.2 -> 2.6.1
added (1):
  curl 7.88.1-10+deb12u14
removed (1):
  wget 1.21.3-1+deb12u1
rebuilt (same version, new content) (1):
  tzdata 2025b-0+deb12u1 -> 2025b-0+deb12u1
tools (1):
  mmdebstrap: mmdebstrap 1.3.5 -> mmdebstrap 1.5.0
`
	if text.String() != want {
		t.Errorf("got\n%s\nwant\n%s", text.String(), want)
	}
	b, _ := json.Marshal(c)
	if !strings.Contains(string(b), `"upgraded":[{"name":"libc6","architecture":"amd64","from":"2.36-9+deb12u14","to":"2.36-9+deb12u15"}]`) {
		t.Errorf("json %s", b)
	}
}

func TestDiffEmpty(t *testing.T) {
	c := Diff(sampleLock(), sampleLock())
	var text bytes.Buffer
	_ = c.WriteText(&text)
	if !c.Empty() || text.String() != "no changes\n" {
		t.Errorf("%+v %q", c, text.String())
	}
	b, _ := json.Marshal(c)
	if want := `{"upgraded":[],"downgraded":[],"added":[],"removed":[],"rebuilt":[],"tools":[]}`; string(b) != want {
		t.Errorf("json %s", b)
	}
}
