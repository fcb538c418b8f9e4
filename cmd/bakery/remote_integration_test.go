package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bakery-dev/bakery/internal/runner"
)

// TestIntegrationRemotePromote runs `bakery serve` as a subprocess and a
// remote CLI session (a second bakery process) against it: with a releaser
// token it promotes a version; without a token the same promotion fails
// (exit 1, 401) and changes nothing.
func TestIntegrationRemotePromote(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bakery and runs a server")
	}
	bin := buildBakery(t)
	state, names := releaseState(t, []string{"1.0.0", "1.1.0"}, []bool{true, true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli := func(env []string, args ...string) (string, error) {
		out, err := (runner.Exec{}).Run(ctx, runner.Cmd{Args: append([]string{bin}, args...), Env: env})
		return string(out), err
	}
	if _, err := cli(nil, "--state-dir", state, "keygen"); err != nil {
		t.Fatal(err)
	}
	token, err := cli(nil, "--state-dir", state, "token", "create", "--name", "ci", "--role", "releaser", "--expires", "1d")
	if err != nil {
		t.Fatal(err)
	}
	url := startServeProcess(ctx, t, bin, state)

	env := []string{"BAKERY_SERVER=" + url}
	out, err := cli(env, "promote", "debian-cloud", "1.1.0", "--to", "devel")
	var rerr *runner.Error
	if !errors.As(err, &rerr) || rerr.ExitCode != 1 || !strings.Contains(rerr.Stderr, "401") {
		t.Fatalf("promotion without a token: %v\n%s", err, out)
	}
	if log, _ := cli(nil, "--state-dir", state, "--json", "log"); strings.TrimSpace(log) != "[]" {
		t.Fatalf("a refused promotion changed the audit log: %s", log)
	}

	env = append(env, "BAKERY_TOKEN="+strings.TrimSpace(token))
	out, err = cli(env, "promote", "debian-cloud", "1.1.0", "--to", "devel")
	if err != nil || !strings.Contains(out, "by token:ci") {
		t.Fatalf("promotion with a releaser token: %v\n%s", err, out)
	}
	out, err = cli(env, "images", "--channel", "devel")
	if err != nil || !strings.Contains(out, names[1]) || strings.Contains(out, names[0]) {
		t.Fatalf("images on devel after the promotion: %v\n%s", err, out)
	}
	local, err := cli(nil, "--state-dir", state, "log", "debian-cloud")
	if err != nil || !strings.Contains(local, "promote debian-cloud 1.1.0 to devel") || !strings.Contains(local, "token:ci") {
		t.Fatalf("the local audit log lacks the remote promotion: %v\n%s", err, local)
	}
}

// startServeProcess starts `bakery serve` on a free port and returns its
// URL once it listens; the server is stopped when the test ends.
func startServeProcess(ctx context.Context, t *testing.T, bin, state string) string {
	t.Helper()
	pr, pw := io.Pipe()
	p, err := runner.Start(ctx, runner.Cmd{Args: []string{bin, "--state-dir", state, "--json", "serve", "--listen", "127.0.0.1:0"}, Stdout: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill(); pw.Close() })
	urls := make(chan string, 1)
	go func() {
		var m struct { // printed as indented JSON
			URL string `json:"url"`
		}
		if json.NewDecoder(pr).Decode(&m) == nil && m.URL != "" {
			urls <- m.URL
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case u := <-urls:
		return u
	case <-p.Done():
		t.Fatalf("bakery serve ended: %s", p.Output())
	case <-time.After(30 * time.Second):
		t.Fatal("bakery serve printed no URL in 30s")
	}
	return ""
}
