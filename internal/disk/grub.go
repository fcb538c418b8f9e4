package disk

import (
	"fmt"
	"path/filepath"
)

// GrubTarget is a GRUB platform directory name under the GRUB lib dir.
type GrubTarget string

const (
	GrubBIOS GrubTarget = "i386-pc"
	GrubEFI  GrubTarget = "x86_64-efi"
)

// DefaultGrubDir is where Debian's grub-pc-bin and grub-efi-amd64-bin put
// the platform directories.
const DefaultGrubDir = "/usr/lib/grub"

// grubPrefix is where the installed system keeps grub.cfg and modules.
const grubPrefix = "/boot/grub"

// grubModules are embedded in both core images, so that booting never
// needs to load a module from disk.
var grubModules = []string{
	"part_gpt", "part_msdos", "ext2", "fat",
	"search", "search_fs_uuid", "search_fs_file", "search_label",
	"normal", "configfile", "linux", "boot", "chain",
	"serial", "terminal", "terminfo", "echo", "test", "sleep",
	"gzio", "xzio", "zstd", "all_video", "gettext",
	"minicmd", "ls", "cat", "loadenv", "halt", "reboot",
}

// GrubModules lists the modules embedded in the core image for t.
func GrubModules(t GrubTarget) []string {
	mods := append([]string(nil), grubModules...)
	if t == GrubBIOS {
		mods = append([]string{"biosdisk"}, mods...)
	}
	return mods
}

// GrubMkimageArgs builds the grub-mkimage command line that writes a
// self-contained core image for t with earlyConfig embedded.
func GrubMkimageArgs(t GrubTarget, grubDir, earlyConfig, output string) []string {
	args := []string{"grub-mkimage",
		"-O", string(t),
		"-d", filepath.Join(grubDir, string(t)),
		"-o", output,
		"-c", earlyConfig,
		"-p", grubPrefix,
	}
	return append(args, GrubModules(t)...)
}

// serialSetup sends GRUB's console to the first serial port as well as
// the screen.
const serialSetup = `serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
`

// EarlyConfig is the configuration embedded in both core images: it finds
// the root filesystem by UUID and points the prefix at its /boot/grub, from
// where GRUB's normal mode reads grub.cfg.
func EarlyConfig(rootUUID string) string {
	return serialSetup + fmt.Sprintf(`search --no-floppy --fs-uuid --set=root %s
set prefix=($root)%s
`, rootUUID, grubPrefix)
}

// KernelCmdline is the kernel command line for a root filesystem.
func KernelCmdline(rootUUID string) string {
	return "root=UUID=" + rootUUID +
		" ro console=tty0 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 rootwait"
}

// GrubConfig renders /boot/grub/grub.cfg for kernel version kver.
func GrubConfig(kver, rootUUID string) string {
	return fmt.Sprintf(`# Written by bakery.
set default=0
set timeout=1
set timeout_style=menu
%sinsmod part_gpt
insmod ext2
search --no-floppy --fs-uuid --set=root %s

menuentry 'Debian GNU/Linux, with Linux %s' --id debian {
	insmod gzio
	echo 'Loading Linux %s ...'
	linux /boot/vmlinuz-%s %s
	echo 'Loading initial ramdisk ...'
	initrd /boot/initrd.img-%s
}
`, serialSetup, rootUUID, kver, kver, kver, KernelCmdline(rootUUID), kver)
}

// Fstab renders /etc/fstab: the root filesystem and the ESP, both by UUID.
func Fstab(l Layout) string {
	return fmt.Sprintf(`# <file system> <mount point> <type> <options> <dump> <pass>
UUID=%s / ext4 errors=remount-ro 0 1
UUID=%s /boot/efi vfat umask=0077,nofail 0 0
`, l.RootUUID, l.ESPVolumeID)
}
