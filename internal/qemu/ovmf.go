package qemu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// OVMFDirs are the directories FindOVMF searches: where Debian's ovmf
// package installs the firmware.
var OVMFDirs = []string{"/usr/share/OVMF"}

// ovmfPairs are the code/vars file pairs FindOVMF accepts, best first: the
// 4 MiB build Debian ships since bookworm, then the older 2 MiB one. Secure
// Boot variants are left out: they need SMM and enrolled keys.
var ovmfPairs = [][2]string{
	{"OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"},
	{"OVMF_CODE.fd", "OVMF_VARS.fd"},
}

// ErrNoOVMF is returned when no UEFI firmware is installed.
var ErrNoOVMF = errors.New("no OVMF firmware found; install it with: apt-get install ovmf")

// FindOVMF returns the UEFI firmware code and the pristine variable store
// template from the ovmf package. Copy vars before giving it to a machine.
func FindOVMF() (code, vars string, err error) { return FindOVMFIn(OVMFDirs...) }

// FindOVMFIn is FindOVMF over the given directories.
func FindOVMFIn(dirs ...string) (code, vars string, err error) {
	for _, pair := range ovmfPairs {
		for _, dir := range dirs {
			c, v := filepath.Join(dir, pair[0]), filepath.Join(dir, pair[1])
			if isFile(c) && isFile(v) {
				return c, v, nil
			}
		}
	}
	return "", "", fmt.Errorf("finding OVMF in %s: %w", strings.Join(dirs, ", "), ErrNoOVMF)
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
