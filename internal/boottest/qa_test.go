package boottest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/bakery-dev/bakery/internal/qemu"
	"github.com/bakery-dev/bakery/internal/runner"
)

const (
	fakeImageSize = 4 << 30
	fakeBtime     = 1_800_000_000
)

// qaRunner stands in for qemu-img: info reports a 4 GiB disk, create
// makes the overlay file.
type qaRunner struct {
	runner.Recorder
	mu sync.Mutex
}

func (r *qaRunner) Run(ctx context.Context, c runner.Cmd) ([]byte, error) {
	r.mu.Lock()
	r.Recorder.Run(ctx, c)
	r.mu.Unlock()
	switch {
	case len(c.Args) > 2 && c.Args[1] == "info":
		return []byte(fmt.Sprintf(`{"virtual-size": %d, "format": "qcow2"}`, fakeImageSize)), nil
	case len(c.Args) > 2 && c.Args[1] == "create":
		return nil, os.WriteFile(c.Args[len(c.Args)-2], []byte("overlay"), 0o644)
	}
	return nil, fmt.Errorf("unexpected command %s", c)
}

// machineSpec says how one fake boot behaves.
type machineSpec struct {
	mode     string // "ssh" (answers), "silent", "crash", "panic"
	hostKey  ssh.Signer
	brokenFn func(cmd string) (string, int, bool) // overrides answers
}

// fakeMachines is a fake QEMU plus the SSH servers its boots answer with.
type fakeMachines struct {
	t        *testing.T
	bin      string
	argsFile string
	pidDir   string
	specs    map[qemu.Firmware]machineSpec
	id       func() Identity
	release  string
	servers  []*sshServer
	mu       sync.Mutex
	scripts  map[string][]byte
}

var hostfwd = regexp.MustCompile(`hostfwd=tcp:127\.0\.0\.1:(\d+)-:22`)

func newFakeMachines(t *testing.T, specs map[qemu.Firmware]machineSpec) *fakeMachines {
	t.Helper()
	dir := t.TempDir()
	f := &fakeMachines{t: t, bin: filepath.Join(dir, "qemu"), argsFile: filepath.Join(dir, "args"),
		pidDir: filepath.Join(dir, "pids"), specs: specs, scripts: map[string][]byte{},
		release: "BAKERY_NAME=\"img-1\"\nBAKERY_PRODUCT=\"debian-cloud\"\nBAKERY_VERSION=\"0.1.0\"\nBAKERY_BUILD_ID=\"sha256:abc\"\n"}
	os.Mkdir(f.pidDir, 0o755)
	script := `#!/bin/sh
echo $$ > '` + f.pidDir + `'/$$
mode=` + specs[qemu.BIOS].mode + `
for a in "$@"; do
	case "$a" in
	file,id=serial0,path=*) serial="${a#file,id=serial0,path=}" ;;
	if=pflash*) mode=` + specs[qemu.UEFI].mode + ` ;;
	esac
done
echo "$mode $*" >> '` + f.argsFile + `'
case "$mode" in
ssh) printf 'SeaBIOS\r\nLinux version 6.1\r\n' >> "$serial"; exec sleep 60 ;;
silent) exec sleep 60 ;;
crash) echo 'qemu: could not load firmware' >&2; exit 1 ;;
panic) printf 'Linux version 6.1\r\nKernel panic - not syncing: VFS: Unable to mount root fs\r\n' >> "$serial"; exec sleep 60 ;;
esac
`
	if err := os.WriteFile(f.bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// watch starts an SSH server on each forwarded port a fake boot in mode
// "ssh" was given, until ctx ends.
func (f *fakeMachines) watch(ctx context.Context, id *Identity) {
	seen := 0
	for ctx.Err() == nil {
		b, _ := os.ReadFile(f.argsFile)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for ; len(b) > 0 && seen < len(lines); seen++ {
			fw := qemu.BIOS
			if strings.Contains(lines[seen], "if=pflash") {
				fw = qemu.UEFI
			}
			m := hostfwd.FindStringSubmatch(lines[seen])
			if m != nil && strings.HasPrefix(lines[seen], "ssh ") {
				f.serve(fw, "127.0.0.1:"+m[1], id)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fakeMachines) serve(fw qemu.Firmware, addr string, id *Identity) {
	spec := f.specs[fw]
	key := spec.hostKey
	if key == nil {
		key = newHostKey(f.t)
	}
	machineID := randomHex(16)
	respond := func(cmd string, stdin []byte) (string, int) {
		if spec.brokenFn != nil {
			if out, code, ok := spec.brokenFn(cmd); ok {
				return out, code
			}
		}
		return f.answer(cmd, stdin, fw, *id, ssh.FingerprintSHA256(key.PublicKey()), machineID)
	}
	s := startSSHServer(f.t, addr, key, id.Signer.PublicKey(), fakeGuest{respond: respond})
	f.mu.Lock()
	f.servers = append(f.servers, s)
	f.mu.Unlock()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// answer is how a healthy machine answers each command the checks run.
func (f *fakeMachines) answer(cmd string, stdin []byte, fw qemu.Firmware, id Identity, fp, machineID string) (string, int) {
	switch {
	case strings.Contains(cmd, "systemctl is-system-running"):
		return "running\n", 0
	case strings.Contains(cmd, "cloud-init status"):
		return "....\nstatus: done\n", 0
	case strings.Contains(cmd, "result.json"):
		return `{"v1": {"datasource": "DataSourceNoCloud [seed=/dev/vdb][dsmode=net]", "errors": []}}`, 0
	case strings.HasPrefix(cmd, "hostname;"):
		return id.Hostname + "\n" + id.User + "\nsudo-ok\n", 0
	case cmd == hostKeysCmd:
		return fmt.Sprintf("btime %d\nkey %d 256 %s root@%s (ED25519)\nkey %d 3072 SHA256:rsa root@x (RSA)\n",
			fakeBtime, fakeBtime+12, fp, id.Hostname, fakeBtime+12), 0
	case cmd == "cat /etc/machine-id":
		return machineID + "\n", 0
	case strings.HasPrefix(cmd, "df "):
		return "6200000000 /dev/vda1\n", 0
	case cmd == networkCmd:
		return "default via 10.0.2.2 dev enp0s1\n--\n2: enp0s1    inet 10.0.2.15/24 brd 10.0.2.255 scope global enp0s1\n--\nnameserver 10.0.2.3\n", 0
	case cmd == "cat /etc/bakery/release":
		return f.release, 0
	case strings.HasPrefix(cmd, "mkdir -p "+GuestTestDir):
		f.mu.Lock()
		f.scripts[strings.Fields(cmd)[6]] = stdin
		f.mu.Unlock()
		return "", 0
	case strings.Contains(cmd, "sudo -n env"):
		return f.runScript(cmd, fw)
	}
	return "unknown command: " + cmd, 127
}

func (f *fakeMachines) runScript(cmd string, fw qemu.Firmware) (string, int) {
	fields := strings.Fields(cmd)
	f.mu.Lock()
	body := string(f.scripts[fields[len(fields)-2]])
	f.mu.Unlock()
	if !strings.Contains(cmd, "BAKERY_FIRMWARE="+string(fw)) {
		return "wrong environment: " + cmd, 2
	}
	if strings.Contains(body, "exit 1") {
		return "1..2\nok 1 - curl works\nnot ok 2 - nginx answers\n", 1
	}
	return "1..1\nok 1 - curl works\n", 0
}

// alive lists the fake QEMU processes still running.
func (f *fakeMachines) alive() []string {
	var out []string
	entries, _ := os.ReadDir(f.pidDir)
	for _, e := range entries {
		var pid int
		fmt.Sscan(e.Name(), &pid)
		if pid > 0 && syscall.Kill(pid, 0) == nil {
			if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !strings.Contains(string(stat), ") Z ") {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// runFakeQA runs Test against fake machines; the identity Test makes is
// captured through the seed it writes.
func runFakeQA(t *testing.T, f *fakeMachines, o QAOptions) (Report, error) {
	t.Helper()
	dir := t.TempDir()
	o.Image = filepath.Join(dir, "img.qcow2")
	os.WriteFile(o.Image, []byte("qcow2"), 0o644)
	o.QEMU, o.Accel, o.SkipOffline = f.bin, qemu.TCG, true
	o.OVMFCode, o.OVMFVars = filepath.Join(dir, "CODE.fd"), filepath.Join(dir, "VARS.fd")
	os.WriteFile(o.OVMFCode, []byte("code"), 0o644)
	os.WriteFile(o.OVMFVars, []byte("vars"), 0o644)
	if o.WorkDir == "" {
		o.WorkDir = filepath.Join(dir, "work")
		os.Mkdir(o.WorkDir, 0o755)
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	ident, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	id := &ident
	o.Identity = id
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.watch(ctx, id)
	return Test(context.Background(), &qaRunner{}, o)
}

func checkNamed(t *testing.T, r Report, name string, fw qemu.Firmware) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name && c.Firmware == fw {
			return c
		}
	}
	t.Fatalf("no check %s (%s) in %+v", name, fw, r.Checks)
	return Check{}
}

func TestQAPassesOnHealthyMachines(t *testing.T) {
	f := newFakeMachines(t, map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "ssh"}, qemu.UEFI: {mode: "ssh"}})
	tests := []Script{{Name: "tests/smoke.sh", Content: []byte("#!/bin/sh\necho ok\n")}}
	rel := &Release{Name: "img-1", Product: "debian-cloud", Version: "0.1.0", BuildID: "sha256:abc"}
	r, err := runFakeQA(t, f, QAOptions{Tests: tests, Release: rel})
	if err != nil {
		t.Fatalf("Test: %v\n%s", err, dumpChecks(r))
	}
	if !r.Passed || len(r.Boots) != 2 || r.Accel != qemu.TCG || r.DiskSize != fakeImageSize+DefaultGrowBy {
		t.Fatalf("report = %+v", r)
	}
	var names []string
	for _, c := range r.Checks {
		names = append(names, string(c.Firmware)+":"+c.Name)
	}
	perBoot := "boot system-running cloud-init hostname-user ssh-host-keys machine-id root-grown network release recipe-test/tests/smoke.sh"
	var want []string
	for _, fw := range []string{"bios", "uefi"} {
		for _, n := range strings.Fields(perBoot) {
			want = append(want, fw+":"+n)
		}
	}
	want = append(want, ":ssh-host-keys-unique", ":machine-id-unique")
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("checks\n%v\nwant\n%v", names, want)
	}
	for _, b := range r.Boots {
		if !b.Passed || b.BootToSSH <= 0 || b.HostKey == "" || len(b.MachineID) != 32 {
			t.Errorf("boot %+v", b)
		}
	}
	if ev := checkNamed(t, r, "recipe-test/tests/smoke.sh", qemu.BIOS).Evidence; ev != "exit 0; TAP 1/1 ok (plan 1..1)" {
		t.Errorf("recipe test evidence %q", ev)
	}
	if left := f.alive(); len(left) != 0 {
		t.Errorf("QEMU processes left running: %v", left)
	}
}

func dumpChecks(r Report) string {
	var b strings.Builder
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%v %s %s: %s\n", c.Passed, c.Firmware, c.Name, c.Evidence)
	}
	return b.String()
}

func TestQAFindsBrokenMachines(t *testing.T) {
	shared := newHostKey(t)
	tests := []struct {
		name    string
		specs   map[qemu.Firmware]machineSpec
		scripts []Script
		release *Release
		failed  []string // fw:name of every failed check
	}{
		{"shared host key and machine id", map[qemu.Firmware]machineSpec{
			qemu.BIOS: {mode: "ssh", hostKey: shared, brokenFn: fixedMachineID},
			qemu.UEFI: {mode: "ssh", hostKey: shared, brokenFn: fixedMachineID},
		}, nil, nil, []string{":ssh-host-keys-unique", ":machine-id-unique"}},
		{"recipe test fails", map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "ssh"}},
			[]Script{{Name: "tests/web.sh", Content: []byte("#!/bin/sh\nexit 1\n")}, {Name: "tests/gone.sh", Missing: "not found"}}, nil,
			[]string{"bios:recipe-test/tests/web.sh", "bios:recipe-test/tests/gone.sh"}},
		{"degraded, cloud-init error, old host key", map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "ssh", brokenFn: degraded}}, nil, nil,
			[]string{"bios:system-running", "bios:cloud-init", "bios:ssh-host-keys", "bios:root-grown"}},
		{"release differs", map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "ssh"}}, nil,
			&Release{Product: "debian-cloud", Version: "0.2.0", BuildID: "sha256:abc"}, []string{"bios:release"}},
		{"panic", map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "panic"}}, nil, nil, []string{"bios:boot"}},
		{"qemu exits", map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "crash"}}, nil, nil, []string{"bios:boot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeMachines(t, tt.specs)
			var fws []qemu.Firmware
			for _, fw := range []qemu.Firmware{qemu.BIOS, qemu.UEFI} {
				if _, ok := tt.specs[fw]; ok {
					fws = append(fws, fw)
				}
			}
			start := time.Now()
			r, err := runFakeQA(t, f, QAOptions{Firmwares: fws, Tests: tt.scripts, Release: tt.release})
			if !errors.Is(err, ErrQAFailed) || r.Passed {
				t.Fatalf("Test = %v, passed %v; want ErrQAFailed\n%s", err, r.Passed, dumpChecks(r))
			}
			var failed []string
			for _, c := range r.Failed() {
				failed = append(failed, string(c.Firmware)+":"+c.Name)
			}
			if strings.Join(failed, " ") != strings.Join(tt.failed, " ") {
				t.Errorf("failed checks %v, want %v\n%s", failed, tt.failed, dumpChecks(r))
			}
			if time.Since(start) > 15*time.Second {
				t.Errorf("a broken boot took %s to be found", time.Since(start))
			}
			if left := f.alive(); len(left) != 0 {
				t.Errorf("QEMU processes left running: %v", left)
			}
		})
	}
}

func fixedMachineID(cmd string) (string, int, bool) {
	if cmd == "cat /etc/machine-id" {
		return "0123456789abcdef0123456789abcdef\n", 0, true
	}
	return "", 0, false
}

func degraded(cmd string) (string, int, bool) {
	switch {
	case strings.Contains(cmd, "is-system-running"):
		return "degraded\n", 1, true
	case strings.Contains(cmd, "list-units --state=failed"):
		return "nginx.service loaded failed failed A web server\n● foo.mount loaded failed failed Foo\n", 0, true
	case strings.Contains(cmd, "result.json"):
		return `{"v1": {"datasource": "DataSourceNoCloud", "errors": ["('users-groups', KeyError('x'))"]}}`, 0, true
	case cmd == hostKeysCmd:
		return fmt.Sprintf("btime %d\nkey %d 256 SHA256:x root@build (ED25519)\n", fakeBtime, fakeBtime-86400), 0, true
	case strings.HasPrefix(cmd, "df "):
		return "4200000000 /dev/vda1\n", 0, true
	}
	return "", 0, false
}

func TestQATimeoutKeepsConsoleAndLeavesNothing(t *testing.T) {
	f := newFakeMachines(t, map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "silent"}})
	dir := t.TempDir()
	work, consoles := filepath.Join(dir, "work"), filepath.Join(dir, "consoles")
	os.Mkdir(work, 0o755)
	start := time.Now()
	r, err := runFakeQA(t, f, QAOptions{Firmwares: []qemu.Firmware{qemu.BIOS}, Timeout: 3 * time.Second, WorkDir: work, ConsoleDir: consoles})
	if !errors.Is(err, ErrQAFailed) {
		t.Fatalf("Test = %v, want ErrQAFailed", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("a 3 s timeout took %s", el)
	}
	boot := checkNamed(t, r, CheckBoot, qemu.BIOS)
	if boot.Passed || !strings.Contains(boot.Evidence, "no SSH login within 3s") {
		t.Errorf("boot check %+v", boot)
	}
	if _, err := os.Stat(filepath.Join(consoles, "console-bios.log")); err != nil {
		t.Errorf("console not kept: %v", err)
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("work directory holds %v", left)
	}
	if left := f.alive(); len(left) != 0 {
		t.Errorf("QEMU processes left running: %v", left)
	}
}

func TestQACancelLeavesNothing(t *testing.T) {
	f := newFakeMachines(t, map[qemu.Firmware]machineSpec{qemu.BIOS: {mode: "silent"}})
	dir := t.TempDir()
	o := QAOptions{Image: filepath.Join(dir, "img.qcow2"), QEMU: f.bin, Accel: qemu.TCG, SkipOffline: true,
		Firmwares: []qemu.Firmware{qemu.BIOS}, WorkDir: filepath.Join(dir, "work")}
	os.WriteFile(o.Image, []byte("x"), 0o644)
	os.Mkdir(o.WorkDir, 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(f.alive()) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		cancel() // Ctrl-C while the machine boots
	}()
	_, err := Test(ctx, &qaRunner{}, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Test = %v, want context.Canceled", err)
	}
	if left := f.alive(); len(left) != 0 {
		t.Errorf("QEMU processes left running: %v", left)
	}
	if left, _ := os.ReadDir(o.WorkDir); len(left) != 0 {
		t.Errorf("work directory holds %v", left)
	}
}
