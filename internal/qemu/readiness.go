package qemu

import (
	"bytes"
	"fmt"
	"net"
	"os"
)

// BootFailurePatterns are console lines after which a machine will not
// come up by itself: firmware that found nothing to boot, a boot loader
// that fell to its rescue shell, a kernel panic, systemd's emergency mode.
var BootFailurePatterns = []string{
	"No bootable device",                 // SeaBIOS
	"No bootable option or device",       // OVMF
	"grub rescue>",                       // GRUB without its modules or configuration
	"Kernel panic - not syncing",         // Linux
	"You are in emergency mode",          // systemd
	"Give root password for maintenance", // systemd, sulogin
	"ALERT!  UUID=",                      // initramfs-tools: root device missing
}

// BootFailure returns the console line holding the first (earliest in the
// console) of BootFailurePatterns, with escape sequences removed, or "".
func BootFailure(console []byte) string {
	at := -1
	for _, p := range BootFailurePatterns {
		if i := bytes.Index(console, []byte(p)); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		return ""
	}
	start := bytes.LastIndexAny(console[:at], "\r\n") + 1
	end := bytes.IndexAny(console[at:], "\r\n")
	if end < 0 {
		end = len(console) - at
	}
	return tailLines(string(console[start:at+end]), 1)
}

// ConsoleBootFailure is BootFailure on a console file; a missing file is
// no failure.
func ConsoleBootFailure(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return BootFailure(b)
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right
// now. Another program may take it before QEMU does: callers retry when
// QEMU cannot forward it (ErrPortTaken).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortTakenMessage is what QEMU prints when a host forwarding port is in
// use.
const PortTakenMessage = "Could not set up host forwarding rule"
