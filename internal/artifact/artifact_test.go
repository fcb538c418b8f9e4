package artifact

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const helloDigest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

func TestValidateDigest(t *testing.T) {
	hex := strings.Repeat("0f", 32)
	tests := []struct {
		in string
		ok bool
	}{
		{"sha256:" + hex, true},
		{helloDigest, true},
		{"", false},
		{"sha256:", false},
		{hex, false},
		{"sha256:" + hex[:63], false},
		{"sha256:" + hex + "a", false},
		{"sha256:" + strings.ToUpper(hex), false},
		{"sha256:" + hex[:63] + "g", false},
		{"sha512:" + hex, false},
		{" sha256:" + hex, false},
		{"sha256:" + hex + "\n", false},
	}
	for _, tt := range tests {
		err := ValidateDigest(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateDigest(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("ValidateDigest(%q) = %v, does not wrap ErrInvalidDigest", tt.in, err)
		}
	}
}

func TestHex(t *testing.T) {
	h, err := Hex(helloDigest)
	if err != nil || h != strings.TrimPrefix(helloDigest, "sha256:") {
		t.Errorf("Hex = %q, %v", h, err)
	}
	if _, err := Hex("sha256:zz"); !errors.Is(err, ErrInvalidDigest) {
		t.Errorf("Hex of bad digest: %v", err)
	}
}

func TestDigest(t *testing.T) {
	d, n, err := Digest(strings.NewReader("hello"))
	if err != nil || d != helloDigest || n != 5 {
		t.Errorf("Digest = %q, %d, %v; want %q, 5, nil", d, n, err, helloDigest)
	}
}

func TestDigestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, n, err := DigestFile(p)
	if err != nil || d != helloDigest || n != 5 {
		t.Errorf("DigestFile = %q, %d, %v; want %q, 5, nil", d, n, err, helloDigest)
	}
	if _, _, err := DigestFile(p + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DigestFile of missing file: %v, want os.ErrNotExist", err)
	}
}

func TestMismatch(t *testing.T) {
	err := Mismatch(helloDigest, "sha256:00")
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), helloDigest) {
		t.Errorf("Mismatch = %v", err)
	}
}

func FuzzValidateDigest(f *testing.F) {
	f.Add(helloDigest)
	f.Add("sha256:")
	f.Add("sha256:../../x")
	f.Fuzz(func(t *testing.T, d string) {
		if ValidateDigest(d) != nil {
			return
		}
		h, err := Hex(d)
		if err != nil || len(h) != 64 || strings.ContainsAny(h, "/.\\") || "sha256:"+h != d {
			t.Errorf("valid digest %q gave hex %q, %v", d, h, err)
		}
	})
}
