package apt

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Signer signs the Release files of local repositories with an OpenPGP key
// that bakery makes once and keeps (private key readable by root only). apt
// trusts it only for sources that name its keyring with signed-by.
type Signer struct {
	entity  *openpgp.Entity
	keyring string
}

// Key file names inside the key directory.
const (
	signerPrivateFile = "local-repo.key" // armored private key, mode 0600
	signerKeyringFile = "local-repo.gpg" // binary public keyring for signed-by
)

var signerConfig = &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256}

// LoadOrCreateSigner opens the key kept in dir, creating it first if there
// is none. Two processes creating it at once end up sharing one key.
func LoadOrCreateSigner(dir string) (*Signer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating key directory: %w", err)
	}
	priv := filepath.Join(dir, signerPrivateFile)
	if _, err := os.Stat(priv); errors.Is(err, fs.ErrNotExist) {
		if err := createSigner(dir); err != nil {
			return nil, err
		}
	}
	return loadSigner(dir)
}

func createSigner(dir string) error {
	e, err := openpgp.NewEntity("bakery local repository", "input archive", "bakery@localhost", signerConfig)
	if err != nil {
		return fmt.Errorf("creating repository key: %w", err)
	}
	var privBuf, pubBuf bytes.Buffer
	w, err := armor.Encode(&privBuf, openpgp.PrivateKeyType, nil)
	if err != nil {
		return fmt.Errorf("creating repository key: %w", err)
	}
	if err := e.SerializePrivate(w, signerConfig); err != nil {
		return fmt.Errorf("creating repository key: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("creating repository key: %w", err)
	}
	if err := e.Serialize(&pubBuf); err != nil {
		return fmt.Errorf("creating repository key: %w", err)
	}
	// Public keyring first: whoever sees the private key also finds it.
	if err := publishOnce(filepath.Join(dir, signerKeyringFile+".new"), pubBuf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(dir, signerKeyringFile+".new"), filepath.Join(dir, signerKeyringFile)); err != nil {
		return fmt.Errorf("writing repository keyring: %w", err)
	}
	return publishOnce(filepath.Join(dir, signerPrivateFile), privBuf.Bytes(), 0o600)
}

// publishOnce writes data to a temp file and links it to path; if path
// appeared meanwhile (another process), the existing file wins.
func publishOnce(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func loadSigner(dir string) (*Signer, error) {
	f, err := os.Open(filepath.Join(dir, signerPrivateFile))
	if err != nil {
		return nil, fmt.Errorf("opening repository key: %w", err)
	}
	defer f.Close()
	ring, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil || len(ring) != 1 || ring[0].PrivateKey == nil {
		return nil, fmt.Errorf("reading repository key %s: want one private key: %v", f.Name(), err)
	}
	keyring := SignerKeyring(dir)
	if _, err := os.Stat(keyring); err != nil {
		return nil, fmt.Errorf("opening repository keyring: %w", err)
	}
	return &Signer{entity: ring[0], keyring: keyring}, nil
}

// SignerKeyring is the public keyring LoadOrCreateSigner keeps in dir.
func SignerKeyring(dir string) string { return filepath.Join(dir, signerKeyringFile) }

// Keyring is the public keyring file that verifies the signer's
// signatures (what a source's signed-by names).
func (s *Signer) Keyring() string { return s.keyring }

// Fingerprint is the key's fingerprint in upper-case hex.
func (s *Signer) Fingerprint() string { return fmt.Sprintf("%X", s.entity.PrimaryKey.Fingerprint) }

// ClearSign returns data as an OpenPGP clearsigned message (an InRelease
// file). The signature carries the current time (it must not predate the
// key, and no build output contains it).
func (s *Signer) ClearSign(data []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, s.entity.PrivateKey, signerConfig)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return out.Bytes(), nil
}
