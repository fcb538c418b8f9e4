package disk

import (
	"fmt"
	"strings"
)

// SfdiskScript renders the sfdisk input that creates l's partition table on
// device. Partition numbers come from the names of the partition lines, so
// the root partition can be number 1 while sitting last on the disk.
func SfdiskScript(l Layout, device string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "label: gpt\nlabel-id: %s\nunit: sectors\nfirst-lba: %d\nsector-size: %d\n\n",
		l.DiskGUID, biosBootStart/SectorSize, SectorSize)
	for _, p := range l.Partitions() {
		fmt.Fprintf(&b, "%s : start=%d, size=%d, type=%s, uuid=%s\n",
			partitionDevice(device, p.Number), p.StartLBA(), p.Sectors(), p.TypeGUID, p.GUID)
	}
	return b.String()
}

// partitionDevice names partition n of device the way the kernel does: a
// "p" separates the number when the device name ends in a digit.
func partitionDevice(device string, n int) string {
	if device != "" && device[len(device)-1] >= '0' && device[len(device)-1] <= '9' {
		return fmt.Sprintf("%sp%d", device, n)
	}
	return fmt.Sprintf("%s%d", device, n)
}

// SfdiskArgs is the command line that reads a script on standard input and
// writes the partition table to the image file.
func SfdiskArgs(image string) []string {
	return []string{"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", image}
}
