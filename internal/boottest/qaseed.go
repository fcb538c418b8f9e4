package boottest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// QAUser is the account the boot test's seed creates and logs in as.
const QAUser = "bakery"

// Identity is what the boot test's NoCloud seed tells a machine about
// itself and how the test logs in: a hostname, a user and a throw-away SSH
// key made for this run only.
type Identity struct {
	Hostname   string
	User       string
	InstanceID string
	Signer     ssh.Signer // the private key; never written to disk
}

// NewIdentity makes a fresh identity with a new ed25519 key and a random
// hostname and instance ID.
func NewIdentity() (Identity, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Identity{}, fmt.Errorf("generating SSH key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return Identity{}, fmt.Errorf("generating SSH key: %w", err)
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return Identity{}, fmt.Errorf("generating instance ID: %w", err)
	}
	suffix := hex.EncodeToString(id)
	return Identity{Hostname: "bakery-qa-" + suffix[:6], User: QAUser, InstanceID: "bakery-qa-" + suffix, Signer: signer}, nil
}

// AuthorizedKey is the public key as an authorized_keys line.
func (id Identity) AuthorizedKey() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(id.Signer.PublicKey()))) + " bakery-qa"
}

// Seed returns the NoCloud seed that gives a machine this identity: the
// hostname in meta-data; in user-data the user, with passwordless sudo, a
// locked password and the key as its only way in. Host keys are made for
// ed25519 and ECDSA only: an RSA key takes cloud-init 10-20 s under
// emulation, and the test is served the ed25519 key.
func (id Identity) Seed() Seed {
	meta := fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\n", id.InstanceID, id.Hostname)
	user := fmt.Sprintf(`#cloud-config
hostname: %s
users:
  - name: %s
    gecos: bakery boot test
    shell: /bin/bash
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    lock_passwd: true
    ssh_authorized_keys:
      - %s
ssh_pwauth: false
ssh_genkeytypes: [ed25519, ecdsa]
`, id.Hostname, id.User, id.AuthorizedKey())
	return Seed{MetaData: []byte(meta), UserData: []byte(user)}
}

// SeedWith is Seed with deploy-time user-data merged into the seed's (see
// MergeUserData): the test's own keys win; it returns what of extra was
// dropped. Nil extra is the plain seed.
func (id Identity) SeedWith(extra []byte) (Seed, []string, error) {
	s := id.Seed()
	if extra == nil {
		return s, nil, nil
	}
	ud, dropped, err := MergeUserData(s.UserData, extra)
	if err != nil {
		return Seed{}, nil, err
	}
	s.UserData = ud
	return s, dropped, nil
}
