// Package pgpkey keeps the OpenPGP signing keys bakery makes for itself (the
// local apt repository's, the simplestreams signing key): a private key
// file readable by its owner only and a public key file next to it, made
// once and shared by concurrent processes. It signs cleartext (InRelease,
// .sjson) and verifies cleartext signatures against a public keyring.
package pgpkey

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

var (
	// ErrNoKey is returned by Load when the key was never created.
	ErrNoKey = errors.New("no signing key")
	// ErrExists is returned by Create when the key already exists.
	ErrExists = errors.New("signing key already exists")
	// ErrBadSignature is returned for a cleartext-signed message that is
	// malformed or not signed by a key of the keyring over its content.
	ErrBadSignature = errors.New("bad OpenPGP signature")
)

// Spec names a key and the files it is kept in, inside a directory.
type Spec struct {
	Name, Comment, Email string
	PrivateFile          string // armored private key, mode 0600
	PublicFile           string // public key, mode 0644
	ArmoredPublic        bool   // armored public key (.asc); else a binary keyring (.gpg, for apt's signed-by)
}

// Key is a loaded signing key.
type Key struct {
	entity *openpgp.Entity
	public string // path of the public key file
}

var config = &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256}

// LoadOrCreate opens the key kept in dir, creating it first if there is
// none. Two processes creating it at once end up sharing one key.
func LoadOrCreate(dir string, spec Spec) (*Key, error) {
	if _, err := Create(dir, spec); err != nil && !errors.Is(err, ErrExists) {
		return nil, err
	}
	return Load(dir, spec)
}

// Create makes a new key in dir, or returns ErrExists (and the existing
// key) when dir already holds one.
func Create(dir string, spec Spec) (*Key, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating key directory: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, spec.PrivateFile)); err == nil {
		k, lerr := Load(dir, spec)
		if lerr != nil {
			return nil, lerr
		}
		return k, fmt.Errorf("%w: %s", ErrExists, filepath.Join(dir, spec.PrivateFile))
	}
	if err := create(dir, spec); err != nil {
		return nil, err
	}
	return Load(dir, spec)
}

func create(dir string, spec Spec) error {
	e, err := openpgp.NewEntity(spec.Name, spec.Comment, spec.Email, config)
	if err != nil {
		return fmt.Errorf("creating signing key: %w", err)
	}
	priv, err := armored(openpgp.PrivateKeyType, func(w *bytes.Buffer) error { return e.SerializePrivate(w, config) })
	if err != nil {
		return fmt.Errorf("creating signing key: %w", err)
	}
	var pub []byte
	if spec.ArmoredPublic {
		pub, err = armored(openpgp.PublicKeyType, func(w *bytes.Buffer) error { return e.Serialize(w) })
	} else {
		var buf bytes.Buffer
		err = e.Serialize(&buf)
		pub = buf.Bytes()
	}
	if err != nil {
		return fmt.Errorf("creating signing key: %w", err)
	}
	// Public key first: whoever sees the private key also finds it.
	tmpPub := filepath.Join(dir, spec.PublicFile+".new")
	if err := publishOnce(tmpPub, pub, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmpPub, filepath.Join(dir, spec.PublicFile)); err != nil {
		return fmt.Errorf("writing public key: %w", err)
	}
	return publishOnce(filepath.Join(dir, spec.PrivateFile), priv, 0o600)
}

// armored serializes with ser into an armor block of the type.
func armored(blockType string, ser func(*bytes.Buffer) error) ([]byte, error) {
	var raw, out bytes.Buffer
	if err := ser(&raw); err != nil {
		return nil, err
	}
	w, err := armor.Encode(&out, blockType, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// publishOnce writes data to a temp file and links it to path; if path
// appeared meanwhile (another process), the existing file wins.
func publishOnce(path string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(mode)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Load opens the key kept in dir, or returns ErrNoKey.
func Load(dir string, spec Spec) (*Key, error) {
	privPath := filepath.Join(dir, spec.PrivateFile)
	f, err := os.Open(privPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoKey, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("opening signing key: %w", err)
	}
	defer f.Close()
	ring, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil || len(ring) != 1 || ring[0].PrivateKey == nil {
		return nil, fmt.Errorf("reading signing key %s: want one private key: %v", privPath, err)
	}
	pub := filepath.Join(dir, spec.PublicFile)
	if _, err := os.Stat(pub); err != nil {
		return nil, fmt.Errorf("opening public key: %w", err)
	}
	return &Key{entity: ring[0], public: pub}, nil
}

// PublicFile is the path of the key's public key file.
func (k *Key) PublicFile() string { return k.public }

// Fingerprint is the key's fingerprint in upper-case hex.
func (k *Key) Fingerprint() string { return fmt.Sprintf("%X", k.entity.PrimaryKey.Fingerprint) }

// ArmoredPublic returns the public key as an armored block (.asc).
func (k *Key) ArmoredPublic() ([]byte, error) {
	out, err := armored(openpgp.PublicKeyType, func(w *bytes.Buffer) error { return k.entity.Serialize(w) })
	if err != nil {
		return nil, fmt.Errorf("exporting public key: %w", err)
	}
	return out, nil
}

// ClearSign returns data as an OpenPGP cleartext-signed message. The
// signature carries the current time (it must not predate the key).
func (k *Key) ClearSign(data []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, k.entity.PrivateKey, config)
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

// ReadKeyring reads public keys, armored or binary.
func ReadKeyring(data []byte) (openpgp.EntityList, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	if err != nil {
		ring, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil || len(ring) == 0 {
		return nil, fmt.Errorf("reading keyring: no OpenPGP public key: %v", err)
	}
	return ring, nil
}

// VerifyClearSigned checks a cleartext-signed message against the keyring
// and returns the signed text. Anything but whitespace around the message
// is refused, as is a signature by a key not in the keyring or over other
// text. Errors wrap ErrBadSignature.
func VerifyClearSigned(msg []byte, keyring openpgp.KeyRing) ([]byte, error) {
	start := bytes.Index(msg, []byte("-----BEGIN PGP SIGNED MESSAGE-----"))
	if start < 0 || len(bytes.TrimSpace(msg[:start])) != 0 {
		return nil, fmt.Errorf("%w: not a cleartext-signed message", ErrBadSignature)
	}
	b, rest := clearsign.Decode(msg)
	if b == nil {
		return nil, fmt.Errorf("%w: malformed cleartext-signed message", ErrBadSignature)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: text after the signature", ErrBadSignature)
	}
	if _, err := b.VerifySignature(keyring, config); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return b.Plaintext, nil
}
