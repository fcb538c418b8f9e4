package build

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseMountsUnder(t *testing.T) {
	info := `22 1 8:1 / / rw - ext4 /dev/root rw
30 22 0:5 / /work/ws/tree/proc rw - proc proc rw
31 22 0:6 / /work/ws/tree/dev/pts rw - devpts devpts rw
32 22 0:6 / /work/ws/tree/dev rw - devtmpfs dev rw
33 22 0:7 / /work/ws2/tree rw - tmpfs t rw
34 22 0:8 / /work/ws/with\040space rw - tmpfs t rw
`
	got := parseMountsUnder(bufio.NewScanner(strings.NewReader(info)), "/work/ws/")
	want := "/work/ws/tree/dev/pts /work/ws/with space /work/ws/tree/proc /work/ws/tree/dev"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q\nwant %q", strings.Join(got, " "), want)
	}
}
