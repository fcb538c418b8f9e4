package qemu

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestBootFailure(t *testing.T) {
	tests := []struct {
		name, console, want string
	}{
		{"booting", "SeaBIOS (version 1.16.2)\r\nBooting from Hard Disk...\r\n[    0.000000] Linux version 6.1\r\n", ""},
		{"login", "Debian GNU/Linux 12 debian ttyS0\r\n\r\ndebian login: ", ""},
		{"seabios", "SeaBIOS (version 1.16.2)\r\nBooting from Hard Disk...\r\nBoot failed: not a bootable disk\r\n\r\nNo bootable device.  Retrying in 60 seconds.\r\n", "No bootable device.  Retrying in 60 seconds."},
		{"ovmf", "BdsDxe: failed to load Boot0001\r\n\x1b[2J\x1b[01;01HBdsDxe: No bootable option or device was found.\r\n", "BdsDxe: No bootable option or device was found."},
		{"grub", "error: file `/boot/grub/i386-pc/normal.mod' not found.\r\nEntering rescue mode...\r\ngrub rescue> ", "grub rescue>"},
		{"panic", "[    2.1] VFS: Unable to mount root fs on unknown-block(0,0)\n[    2.2] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs ]---\n", "[    2.2] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs ]---"},
		{"emergency", "[FAILED] Failed to mount /boot/efi.\r\nYou are in emergency mode. After logging in, type \"journalctl -xb\"\r\n", "You are in emergency mode. After logging in, type \"journalctl -xb\""},
		{"earliest wins", "Kernel panic - not syncing: x\nNo bootable device\n", "Kernel panic - not syncing: x"},
		{"initramfs", "ALERT!  UUID=1234 does not exist.  Dropping to a shell!\n", "ALERT!  UUID=1234 does not exist.  Dropping to a shell!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BootFailure([]byte(tt.console)); got != tt.want {
				t.Errorf("BootFailure = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConsoleBootFailure(t *testing.T) {
	dir := t.TempDir()
	if got := ConsoleBootFailure(filepath.Join(dir, "none.log")); got != "" {
		t.Errorf("missing console: %q", got)
	}
	p := filepath.Join(dir, "console.log")
	os.WriteFile(p, []byte("grub rescue> "), 0o644)
	if got := ConsoleBootFailure(p); got != "grub rescue>" {
		t.Errorf("ConsoleBootFailure = %q", got)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("port %d from FreePort is not free: %v", port, err)
	}
	l.Close()
}

func FuzzBootFailure(f *testing.F) {
	f.Add([]byte("No bootable device\r\n"))
	f.Add([]byte("\x1b[2Jgrub rescue>"))
	f.Fuzz(func(t *testing.T, b []byte) { BootFailure(b) })
}
