package apt

import (
	"path/filepath"

	"github.com/bakery-dev/bakery/internal/pgpkey"
)

// Signer signs the Release files of local repositories with an OpenPGP key
// that bakery makes once and keeps (private key readable by root only). apt
// trusts it only for sources that name its keyring with signed-by.
type Signer struct {
	key *pgpkey.Key
}

// Key file names inside the key directory.
const (
	signerPrivateFile = "local-repo.key" // armored private key, mode 0600
	signerKeyringFile = "local-repo.gpg" // binary public keyring for signed-by
)

var signerSpec = pgpkey.Spec{
	Name: "bakery local repository", Comment: "input archive", Email: "bakery@localhost",
	PrivateFile: signerPrivateFile, PublicFile: signerKeyringFile,
}

// LoadOrCreateSigner opens the key kept in dir, creating it first if there
// is none. Two processes creating it at once end up sharing one key.
func LoadOrCreateSigner(dir string) (*Signer, error) {
	k, err := pgpkey.LoadOrCreate(dir, signerSpec)
	if err != nil {
		return nil, err
	}
	return &Signer{key: k}, nil
}

// SignerKeyring is the public keyring LoadOrCreateSigner keeps in dir.
func SignerKeyring(dir string) string { return filepath.Join(dir, signerKeyringFile) }

// Keyring is the public keyring file that verifies the signer's
// signatures (what a source's signed-by names).
func (s *Signer) Keyring() string { return s.key.PublicFile() }

// Fingerprint is the key's fingerprint in upper-case hex.
func (s *Signer) Fingerprint() string { return s.key.Fingerprint() }

// ClearSign returns data as an OpenPGP clearsigned message (an InRelease
// file). The signature carries the current time (it must not predate the
// key, and no build output contains it).
func (s *Signer) ClearSign(data []byte) ([]byte, error) { return s.key.ClearSign(data) }
