package boottest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// fakeGuest answers commands the way a machine would: respond gets the
// command line and its standard input and returns standard output and the
// exit status.
type fakeGuest struct {
	respond func(cmd string, stdin []byte) (string, int)
}

// sshServer is an in-process SSH server standing in for a booted machine.
type sshServer struct {
	t       *testing.T
	l       net.Listener
	hostKey ssh.Signer
	guest   fakeGuest
	mu      sync.Mutex
	cmds    []string
}

func newHostKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startSSHServer serves on addr ("127.0.0.1:0" for any port) until the test
// ends, accepting only the given user's key.
func startSSHServer(t *testing.T, addr string, hostKey ssh.Signer, user ssh.PublicKey, g fakeGuest) *sshServer {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &sshServer{t: t, l: l, hostKey: hostKey, guest: g}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if user != nil && !bytes.Equal(key.Marshal(), user.Marshal()) {
			return nil, io.EOF
		}
		return nil, nil
	}}
	cfg.AddHostKey(hostKey)
	go s.serve(cfg)
	t.Cleanup(func() { l.Close() })
	return s
}

func (s *sshServer) addr() string { return s.l.Addr().String() }

func (s *sshServer) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

func (s *sshServer) serve(cfg *ssh.ServerConfig) {
	for {
		conn, err := s.l.Accept()
		if err != nil {
			return
		}
		go s.handle(conn, cfg)
	}
}

func (s *sshServer) handle(conn net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		conn.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, creqs)
	}
}

func (s *sshServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		ssh.Unmarshal(req.Payload, &payload)
		req.Reply(true, nil)
		stdin, _ := io.ReadAll(ch)
		s.mu.Lock()
		s.cmds = append(s.cmds, payload.Command)
		s.mu.Unlock()
		out, code := s.guest.respond(payload.Command, stdin)
		io.WriteString(ch, out)
		status := make([]byte, 4)
		binary.BigEndian.PutUint32(status, uint32(code))
		ch.SendRequest("exit-status", false, status)
		return
	}
}
