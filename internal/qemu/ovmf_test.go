package qemu

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindOVMFIn(t *testing.T) {
	tests := []struct {
		name      string
		files     []string // created in dir a or b ("a/OVMF_CODE.fd")
		wantCode  string
		wantVars  string
		wantError bool
	}{
		{"4M preferred", []string{"a/OVMF_CODE.fd", "a/OVMF_VARS.fd", "a/OVMF_CODE_4M.fd", "a/OVMF_VARS_4M.fd"}, "a/OVMF_CODE_4M.fd", "a/OVMF_VARS_4M.fd", false},
		{"fallback 2M", []string{"a/OVMF_CODE.fd", "a/OVMF_VARS.fd"}, "a/OVMF_CODE.fd", "a/OVMF_VARS.fd", false},
		{"4M in second dir beats 2M in first", []string{"a/OVMF_CODE.fd", "a/OVMF_VARS.fd", "b/OVMF_CODE_4M.fd", "b/OVMF_VARS_4M.fd"}, "b/OVMF_CODE_4M.fd", "b/OVMF_VARS_4M.fd", false},
		{"code without vars", []string{"a/OVMF_CODE_4M.fd", "b/OVMF_VARS_4M.fd"}, "", "", true},
		{"secure boot only", []string{"a/OVMF_CODE_4M.secboot.fd", "a/OVMF_VARS_4M.ms.fd"}, "", "", true},
		{"directory named like firmware", []string{"a/OVMF_CODE_4M.fd/", "a/OVMF_VARS_4M.fd"}, "", "", true},
		{"empty", nil, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(root, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(f, "/") {
					if err := os.Mkdir(p, 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(p, []byte("fd"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, vars, err := FindOVMFIn(filepath.Join(root, "a"), filepath.Join(root, "b"))
			if tt.wantError {
				if !errors.Is(err, ErrNoOVMF) || !strings.Contains(err.Error(), "apt-get install ovmf") {
					t.Fatalf("FindOVMFIn = %q, %q, %v; want ErrNoOVMF naming the package", code, vars, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if code != filepath.Join(root, tt.wantCode) || vars != filepath.Join(root, tt.wantVars) {
				t.Fatalf("FindOVMFIn = %s, %s; want %s, %s", code, vars, tt.wantCode, tt.wantVars)
			}
		})
	}
}
