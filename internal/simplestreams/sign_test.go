package simplestreams

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/bakery-dev/bakery/internal/pgpkey"
)

func testKey(t *testing.T) (*pgpkey.Key, openpgp.EntityList) {
	t.Helper()
	k, err := pgpkey.Create(t.TempDir(), pgpkey.Spec{Name: "test", PrivateFile: "k", PublicFile: "k.asc", ArmoredPublic: true})
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := k.ArmoredPublic()
	ring, err := pgpkey.ReadKeyring(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, ring
}

// writeSigned writes every document of the tree as .json and .sjson.
func writeSigned(t *testing.T, dir string, tree Tree, k Signer) {
	t.Helper()
	docs := map[string]any{IndexPath: tree.Index}
	for p, prods := range tree.Products {
		docs[p] = prods
	}
	for p, doc := range docs {
		data, err := Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := k.ClearSign(data)
		if err != nil {
			t.Fatal(err)
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(SignedPath(full), signed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignedRoundTrip(t *testing.T) {
	k, ring := testKey(t)
	tree, err := Generate(testStates(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeSigned(t, dir, tree, k)
	now := func() time.Time { return t0.AddDate(0, 0, 12) }
	c := &Client{Source: Dir(dir), Keyring: ring, Now: now}
	items := 0
	err = c.Walk(context.Background(), func(product, serial, key string, it ProductVersionItem) error {
		items++
		return nil
	})
	if err != nil || items != 36 {
		t.Fatalf("walking the signed tree: %d items, %v", items, err)
	}

	t.Run("expired", func(t *testing.T) {
		late := &Client{Source: Dir(dir), Keyring: ring, Now: func() time.Time { return t0.AddDate(0, 0, 17) }}
		if _, err := late.Index(context.Background()); !errors.Is(err, ErrExpired) {
			t.Errorf("index read at its expiry: %v, want ErrExpired", err)
		}
	})
	t.Run("no expires", func(t *testing.T) {
		noExp := tree
		noExp.Index.Expires = ""
		d := t.TempDir()
		writeSigned(t, d, noExp, k)
		if _, err := (&Client{Source: Dir(d), Keyring: ring, Now: now}).Index(context.Background()); !errors.Is(err, ErrExpired) {
			t.Errorf("signed index without expires: %v, want ErrExpired", err)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		p := filepath.Join(dir, "streams/v1/org.example.bakery:released:download.sjson")
		data, _ := os.ReadFile(p)
		bad := bytes.Replace(data, []byte(`"size": 4096`), []byte(`"size": 4097`), 1)
		if bytes.Equal(bad, data) {
			t.Fatal("nothing to tamper with")
		}
		os.WriteFile(p, bad, 0o644)
		if err := c.Walk(context.Background(), func(string, string, string, ProductVersionItem) error { return nil }); !errors.Is(err, ErrSignature) {
			t.Errorf("tampered products file: %v, want ErrSignature", err)
		}
	})
	t.Run("other key", func(t *testing.T) {
		_, otherRing := testKey(t)
		oc := &Client{Source: Dir(dir), Keyring: otherRing, Now: now}
		if _, err := oc.Index(context.Background()); !errors.Is(err, ErrSignature) {
			t.Errorf("index checked against another key: %v, want ErrSignature", err)
		}
	})
}
