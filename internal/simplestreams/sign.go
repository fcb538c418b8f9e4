package simplestreams

import (
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/bakery-dev/bakery/internal/pgpkey"
)

// DefaultExpiry is how long a signed index stays valid by default.
const DefaultExpiry = 7 * 24 * time.Hour

// Signer makes an OpenPGP cleartext signature (*pgpkey.Key is one).
type Signer interface {
	ClearSign(data []byte) ([]byte, error)
}

var _ Signer = (*pgpkey.Key)(nil)

// SignedPath is the path of the signed variant of a document:
// streams/v1/index.json → streams/v1/index.sjson.
func SignedPath(jsonPath string) string {
	return strings.TrimSuffix(jsonPath, ".json") + ".sjson"
}

// VerifyIndex checks a signed index (.sjson) against the keyring and that
// it has not expired at now. It returns ErrSignature for a bad signature
// and ErrExpired for an index without "expires" or past it.
func VerifyIndex(msg []byte, keyring openpgp.KeyRing, now time.Time) (StreamIndex, error) {
	text, err := verify(msg, keyring)
	if err != nil {
		return StreamIndex{}, err
	}
	idx, err := ParseIndex(text)
	if err != nil {
		return StreamIndex{}, err
	}
	if idx.Expires == "" {
		return StreamIndex{}, fmt.Errorf("%w: the signed index has no expires", ErrExpired)
	}
	exp, err := ParseTime(idx.Expires)
	if err != nil {
		return StreamIndex{}, err
	}
	if !now.Before(exp) {
		return StreamIndex{}, fmt.Errorf("%w at %s (now %s): the publisher stopped re-signing it, or it is replayed", ErrExpired, idx.Expires, FormatTime(now))
	}
	return idx, nil
}

// VerifyProducts checks a signed products file (.sjson) against the
// keyring and decodes it.
func VerifyProducts(msg []byte, keyring openpgp.KeyRing) (Products, error) {
	text, err := verify(msg, keyring)
	if err != nil {
		return Products{}, err
	}
	return ParseProducts(text)
}

func verify(msg []byte, keyring openpgp.KeyRing) ([]byte, error) {
	text, err := pgpkey.VerifyClearSigned(msg, keyring)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return text, nil
}
