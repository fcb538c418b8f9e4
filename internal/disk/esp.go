package disk

// ESP paths of the EFI GRUB image: the removable-media fallback path that
// firmware boots without NVRAM entries, and Debian's own path.
const (
	espFallbackPath = "::/EFI/BOOT/BOOTX64.EFI"
	espDebianPath   = "::/EFI/debian/grubx64.efi"
	espLabel        = "ESP"
)

// espDirs are created on the ESP, parents first.
var espDirs = []string{"::/EFI", "::/EFI/BOOT", "::/EFI/debian"}

// MformatArgs builds the mformat command line that makes a FAT32
// filesystem on image (a file already of the partition's size) with the
// given volume id (XXXX-XXXX).
func MformatArgs(image, volumeID string) []string {
	return []string{"mformat", "-i", image, "-F", "-N", volumeSerial(volumeID), "-v", espLabel, "::"}
}

// MmdArgs builds the mmd command line that creates directories on image.
func MmdArgs(image string, dirs ...string) []string {
	return append([]string{"mmd", "-i", image}, dirs...)
}

// McopyArgs builds the mcopy command line that copies a host file onto
// image at dest (an mtools path such as ::/EFI/BOOT/BOOTX64.EFI).
func McopyArgs(image, src, dest string) []string {
	return []string{"mcopy", "-i", image, "-m", src, dest}
}
