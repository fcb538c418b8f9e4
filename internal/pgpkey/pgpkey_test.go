package pgpkey

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

var testSpec = Spec{Name: "test", Email: "t@localhost", PrivateFile: "t.key", PublicFile: "t.asc", ArmoredPublic: true}

func TestCreateLoadModes(t *testing.T) {
	dir := t.TempDir()
	k, err := Create(dir, testSpec)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "t.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", st.Mode(), err)
	}
	again, err := Create(dir, testSpec)
	if !errors.Is(err, ErrExists) || again.Fingerprint() != k.Fingerprint() {
		t.Fatalf("second Create: %v", err)
	}
	if _, err := Load(t.TempDir(), testSpec); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Load of an empty dir: %v", err)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "t.asc"))
	if !bytes.HasPrefix(pub, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) || bytes.Contains(pub, []byte("PRIVATE")) {
		t.Fatalf("public key file:\n%s", pub)
	}
}

func TestClearSignVerify(t *testing.T) {
	k, err := LoadOrCreate(t.TempDir(), testSpec)
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadOrCreate(t.TempDir(), testSpec)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.ArmoredPublic()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := ReadKeyring(pub)
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("{\n \"a\": 1,\n \"- b\": \"c\"\n}\n")
	signed, err := k.ClearSign(text)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyClearSigned(signed, ring)
	if err != nil {
		t.Fatal(err)
	}
	if string(bytes.TrimSpace(got)) != string(bytes.TrimSpace(text)) {
		t.Errorf("plaintext %q, want %q", got, text)
	}
	otherSigned, _ := other.ClearSign(text)
	for name, msg := range map[string][]byte{
		"tampered":    bytes.Replace(signed, []byte(`"a": 1`), []byte(`"a": 2`), 1),
		"other key":   otherSigned,
		"unsigned":    text,
		"junk before": append([]byte("x\n"), signed...),
		"junk after":  append(append([]byte{}, signed...), []byte("x\n")...),
	} {
		if _, err := VerifyClearSigned(msg, ring); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err %v, want ErrBadSignature", name, err)
		}
	}
}
