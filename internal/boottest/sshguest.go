package boottest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// guest runs shell commands on a booted machine. err is only for a
// command that could not be run (connection lost, ctx ended); a command
// that ran and failed has a non-zero exit.
type guest interface {
	run(ctx context.Context, cmd string, stdin []byte) (cmdResult, error)
}

// cmdResult is how a guest command ended.
type cmdResult struct {
	stdout, stderr string
	exit           int
}

// output is stdout, or stderr when stdout is empty, trimmed.
func (r cmdResult) output() string {
	if s := strings.TrimSpace(r.stdout); s != "" {
		return s
	}
	return strings.TrimSpace(r.stderr)
}

// sshGuest is a machine reached over SSH.
type sshGuest struct {
	client  *ssh.Client
	hostKey ssh.PublicKey // the key the server proved it holds
}

// SSHHandshakeTimeout bounds one connection attempt: TCP connect, key
// exchange and authentication.
const SSHHandshakeTimeout = 20 * time.Second

// SSHBannerTimeout bounds the wait for the server's version line. QEMU's
// user networking accepts connections to a forwarded port before anything
// listens in the guest and then says nothing: without a banner soon the
// attempt is given up, so that a server that starts is found quickly.
const SSHBannerTimeout = 4 * time.Second

// bannerConn is a connection whose first bytes, read ahead to see the
// server's banner, are read again by the SSH client.
type bannerConn struct {
	net.Conn
	head []byte
}

func (c *bannerConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// awaitBanner reads until the server's "SSH-" version line starts.
func awaitBanner(conn net.Conn) (net.Conn, error) {
	conn.SetReadDeadline(time.Now().Add(SSHBannerTimeout))
	defer conn.SetReadDeadline(time.Time{})
	var head []byte
	buf := make([]byte, 256)
	for !bytes.Contains(head, []byte("SSH-")) {
		n, err := conn.Read(buf)
		head = append(head, buf[:n]...)
		if err != nil {
			return nil, fmt.Errorf("no SSH banner: %w", err)
		}
		if len(head) > 8<<10 {
			return nil, errors.New("no SSH banner in the first 8 KiB")
		}
	}
	return &bannerConn{Conn: conn, head: head}, nil
}

// dialSSH connects to addr and logs in as id.User with id's key. The host
// key is recorded, not verified: the machine made it at first boot and the
// test compares it across boots.
func dialSSH(ctx context.Context, addr string, id Identity) (*sshGuest, error) {
	ctx, cancel := context.WithTimeout(ctx, SSHHandshakeTimeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := awaitBanner(raw)
	if err != nil {
		raw.Close()
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	g := &sshGuest{}
	cfg := &ssh.ClientConfig{
		User: id.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(id.Signer)},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			g.hostKey = key
			return nil
		},
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           SSHHandshakeTimeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	g.client = ssh.NewClient(c, chans, reqs)
	return g, nil
}

// HostKeyFingerprint is the SHA256 fingerprint of the server's host key,
// as ssh-keygen -l prints it.
func (g *sshGuest) HostKeyFingerprint() string {
	if g.hostKey == nil {
		return ""
	}
	return ssh.FingerprintSHA256(g.hostKey)
}

func (g *sshGuest) Close() error { return g.client.Close() }

// run runs cmd in a session, feeding it stdin. Cancelling ctx closes the
// session.
func (g *sshGuest) run(ctx context.Context, cmd string, stdin []byte) (cmdResult, error) {
	s, err := g.client.NewSession()
	if err != nil {
		return cmdResult{}, fmt.Errorf("opening SSH session: %w", err)
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = bytes.NewReader(stdin), &stdout, &stderr
	done := make(chan error, 1)
	go func() { done <- s.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		s.Close()
		return cmdResult{stdout: stdout.String(), stderr: stderr.String(), exit: -1}, ctx.Err()
	}
	res := cmdResult{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.exit = exitErr.ExitStatus()
	default:
		res.exit = -1
		return res, fmt.Errorf("running %q over SSH: %w", firstWord(cmd), err)
	}
	return res, nil
}

func firstWord(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return cmd
	}
	return f[0]
}

// SSHRetry is how long waitSSH pauses between connection attempts.
const SSHRetry = time.Second

// waitSSH tries to log in at addr until it succeeds, ctx ends or abort
// returns an error (the machine died, its console shows a failed boot).
// The last connection error says how far the server got.
func waitSSH(ctx context.Context, addr string, id Identity, abort func() error) (*sshGuest, error) {
	var last error
	for {
		if err := abort(); err != nil {
			return nil, err
		}
		g, err := dialSSH(ctx, addr, id)
		if err == nil {
			return g, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for SSH on %s: %w (last attempt: %v)", addr, ctx.Err(), last)
		case <-time.After(SSHRetry):
		}
	}
}
