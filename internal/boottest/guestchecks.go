package boottest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Names of the checks Test runs on each booted machine, in order.
const (
	CheckBoot          = "boot"           // SSH answered (boot-to-SSH time)
	CheckSystemRunning = "system-running" // systemctl is-system-running: running
	CheckCloudInit     = "cloud-init"     // cloud-init done, no errors, NoCloud seed used
	CheckHostnameUser  = "hostname-user"  // the seed's hostname and user applied
	CheckSSHHostKeys   = "ssh-host-keys"  // host keys made at this boot
	CheckMachineID     = "machine-id"     // /etc/machine-id set
	CheckRootGrown     = "root-grown"     // root file system grown to the disk
	CheckNetwork       = "network"        // default route, address, nameserver
	CheckRelease       = "release"        // /etc/bakery/release matches the catalog
	// RecipeTestPrefix starts the name of each recipe test's check.
	RecipeTestPrefix = "recipe-test/"
)

// verdict is the outcome of one check before it is timed and named.
type verdict struct {
	passed, skipped bool
	evidence        string
	output          string
}

func pass(format string, args ...any) verdict {
	return verdict{passed: true, evidence: fmt.Sprintf(format, args...)}
}

func fail(format string, args ...any) verdict {
	return verdict{evidence: fmt.Sprintf(format, args...)}
}

// bootState is what the guest checks of one boot compare against and what
// they learn for the comparisons across boots.
type bootState struct {
	id        Identity
	hostKey   string // fingerprint the SSH client saw
	diskSize  int64  // bytes of the disk the machine was given
	imageSize int64  // bytes of the image's own disk
	release   *Release
	timeout   time.Duration // per command
	// learnt
	machineID string
}

// guestCheck is one named check run over SSH.
type guestCheck struct {
	name string
	run  func(ctx context.Context, g guest, b *bootState) verdict
}

var guestChecks = []guestCheck{
	{CheckSystemRunning, checkSystemRunning},
	{CheckCloudInit, checkCloudInit},
	{CheckHostnameUser, checkHostnameUser},
	{CheckSSHHostKeys, checkSSHHostKeys},
	{CheckMachineID, checkMachineID},
	{CheckRootGrown, checkRootGrown},
	{CheckNetwork, checkNetwork},
	{CheckRelease, checkRelease},
}

// commandGrace is how much longer than the check timeout a command may
// take before its SSH session is closed (the guest's own timeout should
// have ended it).
const commandGrace = 30 * time.Second

// sh runs cmd and turns a transport failure into a failing verdict.
func sh(ctx context.Context, g guest, cmd string) (cmdResult, *verdict) {
	return shWithin(ctx, g, cmd, DefaultCheckTimeout+commandGrace)
}

func shWithin(ctx context.Context, g guest, cmd string, limit time.Duration) (cmdResult, *verdict) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	res, err := g.run(ctx, cmd, nil)
	if err != nil {
		v := fail("%v", err)
		return res, &v
	}
	return res, nil
}

func waitCmd(b *bootState, cmd string) string {
	return fmt.Sprintf("timeout %d %s", int(b.timeout.Seconds()), cmd)
}

func checkSystemRunning(ctx context.Context, g guest, b *bootState) verdict {
	res, v := shWithin(ctx, g, waitCmd(b, "systemctl is-system-running --wait"), b.timeout+commandGrace)
	if v != nil {
		return *v
	}
	state := strings.TrimSpace(res.stdout)
	switch {
	case state == "running":
		return pass("running")
	case state == "degraded":
		units, _ := sh(ctx, g, "systemctl list-units --state=failed --no-legend --plain")
		return fail("degraded; failed units: %s", strings.Join(failedUnits(units.stdout), ", "))
	case res.exit == 124:
		return fail("still %q after %s", state, b.timeout)
	}
	return fail("state %q (exit %d)", state, res.exit)
}

// failedUnits takes the unit names from systemctl list-units --plain.
func failedUnits(out string) []string {
	var units []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(strings.TrimLeft(strings.TrimSpace(line), "●* "))
		if len(f) > 0 {
			units = append(units, f[0])
		}
	}
	if len(units) == 0 {
		return []string{"(none listed)"}
	}
	return units
}

func checkCloudInit(ctx context.Context, g guest, b *bootState) verdict {
	st, v := shWithin(ctx, g, waitCmd(b, "cloud-init status --wait --long"), b.timeout+commandGrace)
	if v != nil {
		return *v
	}
	res, v := sh(ctx, g, "sudo -n cat /run/cloud-init/result.json")
	if v != nil {
		return *v
	}
	status := cloudInitStatus(st.stdout)
	result, err := parseCloudInitResult([]byte(res.stdout))
	switch {
	case status != "done":
		return fail("status %q (exit %d): %s", status, st.exit, lastLine(st.output()))
	case err != nil:
		return fail("reading /run/cloud-init/result.json: %v (%s)", err, res.output())
	case len(result.Errors) > 0:
		return fail("errors: %s", strings.Join(result.Errors, "; "))
	case !strings.Contains(result.Datasource, "NoCloud"):
		return fail("datasource %q, not the NoCloud seed", result.Datasource)
	}
	return pass("done, no errors, datasource %s", result.Datasource)
}

func checkHostnameUser(ctx context.Context, g guest, b *bootState) verdict {
	res, v := sh(ctx, g, "hostname; id -un; sudo -n true && echo sudo-ok")
	if v != nil {
		return *v
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	for len(lines) < 3 {
		lines = append(lines, "")
	}
	host, user, sudo := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
	switch {
	case host != b.id.Hostname:
		return fail("hostname %q, the seed says %q", host, b.id.Hostname)
	case user != b.id.User:
		return fail("logged in as %q, the seed's user is %q", user, b.id.User)
	case sudo != "sudo-ok":
		return fail("user %s has no passwordless sudo: %s", user, res.stderr)
	}
	return pass("hostname %s, user %s with sudo", host, user)
}

// hostKeysCmd prints the boot time and, per host public key, its mtime and
// fingerprint.
const hostKeysCmd = `awk '/^btime/ {print "btime", $2}' /proc/stat; ` +
	`for f in /etc/ssh/ssh_host_*_key.pub; do [ -e "$f" ] && echo "key $(stat -c %Y "$f") $(ssh-keygen -lf "$f")"; done`

func checkSSHHostKeys(ctx context.Context, g guest, b *bootState) verdict {
	res, v := sh(ctx, g, hostKeysCmd)
	if v != nil {
		return *v
	}
	keys, btime, err := parseHostKeys(res.stdout)
	if err != nil {
		return fail("%v: %s", err, res.output())
	}
	return judgeHostKeys(keys, btime, b.hostKey)
}

// hostKey is one host public key on the machine.
type hostKey struct {
	mtime       int64
	fingerprint string
	kind        string // ED25519, RSA, ECDSA
}

func parseHostKeys(out string) ([]hostKey, int64, error) {
	var keys []hostKey
	var btime int64 = -1
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "btime":
			btime, _ = strconv.ParseInt(f[1], 10, 64)
		case len(f) >= 4 && f[0] == "key":
			mtime, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("bad key line %q", line)
			}
			keys = append(keys, hostKey{mtime: mtime, fingerprint: f[3], kind: strings.Trim(f[len(f)-1], "()")})
		}
	}
	if btime < 0 {
		return nil, 0, fmt.Errorf("no boot time in /proc/stat")
	}
	return keys, btime, nil
}

// judgeHostKeys passes when there are host keys, all made after the
// machine booted, and one of them is the key the SSH client saw.
func judgeHostKeys(keys []hostKey, btime int64, seen string) verdict {
	if len(keys) == 0 {
		return fail("no /etc/ssh/ssh_host_*_key.pub")
	}
	var served *hostKey
	for i, k := range keys {
		if k.mtime < btime {
			return fail("%s key %s is from %s, before this boot (%s): baked into the image",
				k.kind, k.fingerprint, unixTime(k.mtime), unixTime(btime))
		}
		if k.fingerprint == seen {
			served = &keys[i]
		}
	}
	if served == nil {
		return fail("the key SSH served (%s) is not among /etc/ssh/ssh_host_*_key.pub", seen)
	}
	return pass("%d host keys made %ds after boot; SSH served %s %s", len(keys), served.mtime-btime, served.kind, seen)
}

func unixTime(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }

func checkMachineID(ctx context.Context, g guest, b *bootState) verdict {
	res, v := sh(ctx, g, "cat /etc/machine-id")
	if v != nil {
		return *v
	}
	id := strings.TrimSpace(res.stdout)
	if !isMachineID(id) {
		return fail("/etc/machine-id is %q, want 32 hexadecimal digits", id)
	}
	b.machineID = id
	return pass("%s", id)
}

func isMachineID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return s != strings.Repeat("0", 32)
}

func checkRootGrown(ctx context.Context, g guest, b *bootState) verdict {
	res, v := sh(ctx, g, "df -B1 --output=size,source / | tail -n 1")
	if v != nil {
		return *v
	}
	f := strings.Fields(res.stdout)
	if len(f) != 2 {
		return fail("unexpected df output %q", res.output())
	}
	size, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return fail("unexpected df output %q", res.output())
	}
	return judgeRootSize(size, f[1], b.diskSize, b.imageSize)
}

// RootGrownShare is the share of the disk a grown root file system must
// span: the rest is the boot partitions and ext4's own overhead.
const RootGrownShare = 0.9

func judgeRootSize(root int64, source string, disk, image int64) verdict {
	msg := fmt.Sprintf("root %s on %s is %s of the %s disk (the image's disk is %s)",
		gib(root), source, percent(root, disk), gib(disk), gib(image))
	if root <= image || float64(root) < RootGrownShare*float64(disk) {
		return fail("%s: not grown", msg)
	}
	return pass("%s", msg)
}

func gib(n int64) string { return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30)) }

func percent(a, b int64) string {
	if b == 0 {
		return "?%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
}

const networkCmd = "ip -4 route show default; echo --; ip -4 -o addr show scope global; echo --; grep -E '^nameserver' /etc/resolv.conf"

func checkNetwork(ctx context.Context, g guest, b *bootState) verdict {
	res, v := sh(ctx, g, networkCmd)
	if v != nil {
		return *v
	}
	return judgeNetwork(res.stdout)
}

func judgeNetwork(out string) verdict {
	parts := strings.SplitN(out, "--\n", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	route, addrs, dns := firstLine(parts[0]), addresses(parts[1]), strings.Fields(parts[2])
	switch {
	case route == "":
		return fail("no default route")
	case len(addrs) == 0:
		return fail("no global IPv4 address (default route %s)", route)
	case len(dns) < 2:
		return fail("no nameserver in /etc/resolv.conf")
	}
	return pass("%s; address %s; nameserver %s", route, strings.Join(addrs, ", "), dns[1])
}

// addresses takes the address/prefix of each line of ip -o addr.
func addresses(out string) []string {
	var addrs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" {
				addrs = append(addrs, f[i+1]+" on "+f[1])
			}
		}
	}
	return addrs
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.TrimSpace(s[strings.LastIndex(s, "\n")+1:])
}

func checkRelease(ctx context.Context, g guest, b *bootState) verdict {
	res, v := sh(ctx, g, "cat /etc/bakery/release")
	if v != nil {
		return *v
	}
	if res.exit != 0 {
		return fail("no /etc/bakery/release: %s", res.output())
	}
	got := ParseRelease(res.stdout)
	if b.release == nil {
		return verdict{skipped: true, evidence: fmt.Sprintf("not a catalog image, nothing to compare with (the file says %s %s, build %s)",
			got.Product, got.Version, got.BuildID)}
	}
	if diff := b.release.diff(got); diff != "" {
		return fail("/etc/bakery/release differs from the catalog: %s", diff)
	}
	return pass("%s %s, build %s, as in the catalog", got.Product, got.Version, got.BuildID)
}
