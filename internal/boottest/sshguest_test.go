package boottest

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func echoGuest(cmd string, stdin []byte) (string, int) {
	switch cmd {
	case "cat":
		return string(stdin), 0
	case "false":
		return "", 3
	}
	return cmd, 0
}

func TestWaitSSHRetriesUntilTheServerAnswers(t *testing.T) {
	id, _ := NewIdentity()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens yet: connections are refused, as before sshd starts
	host := newHostKey(t)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		startSSHServer(t, addr, host, id.Signer.PublicKey(), fakeGuest{respond: echoGuest})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g, err := waitSSH(ctx, addr, id, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if fp := g.HostKeyFingerprint(); fp != ssh.FingerprintSHA256(host.PublicKey()) {
		t.Errorf("fingerprint %s", fp)
	}
	res, err := g.run(ctx, "cat", []byte("script body\n"))
	if err != nil || res.stdout != "script body\n" || res.exit != 0 {
		t.Errorf("cat with stdin = %+v, %v", res, err)
	}
	res, err = g.run(ctx, "false", nil)
	if err != nil || res.exit != 3 {
		t.Errorf("exit status = %+v, %v", res, err)
	}
}

func TestWaitSSHGivesUp(t *testing.T) {
	id, _ := NewIdentity()
	stranger, _ := NewIdentity()
	s := startSSHServer(t, "127.0.0.1:0", newHostKey(t), stranger.Signer.PublicKey(), fakeGuest{respond: echoGuest})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := waitSSH(ctx, s.addr(), id, func() error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("login with a key the server does not know: %v", err)
	}
	dead := errors.New("machine exited")
	if _, err := waitSSH(context.Background(), s.addr(), id, func() error { return dead }); !errors.Is(err, dead) {
		t.Errorf("abort: %v", err)
	}
}

// TestWaitSSHSkipsSilentListeners stands in for QEMU's port forwarding
// before sshd runs: connections are accepted but nothing is said. The wait
// must not hang on them for the whole handshake timeout.
func TestWaitSSHSkipsSilentListeners(t *testing.T) {
	id, _ := NewIdentity()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // silent
		}
	}()
	host := newHostKey(t)
	go func() {
		time.Sleep(2 * time.Second)
		l.Close()
		startSSHServer(t, addr, host, id.Signer.PublicKey(), fakeGuest{respond: echoGuest})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	g, err := waitSSH(ctx, addr, id, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	if el := time.Since(start); el > SSHBannerTimeout+SSHRetry+3*time.Second {
		t.Errorf("found the server after %s", el)
	}
}
