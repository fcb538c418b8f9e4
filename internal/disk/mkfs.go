package disk

import (
	"strconv"
)

// rootLabel is the ext4 volume label of the root filesystem.
const rootLabel = "rootfs"

// MkfsArgs builds the mkfs.ext4 command line that makes the root
// filesystem on image (a file of the partition's size) populated from tree,
// with the UUID and directory hash seed of l so the result is reproducible.
func MkfsArgs(image, tree string, l Layout) []string {
	return []string{"mkfs.ext4", "-q", "-F",
		"-b", "4096",
		"-L", rootLabel,
		"-U", l.RootUUID,
		"-E", "hash_seed=" + l.RootHashSeed + ",root_owner=0:0",
		"-d", tree,
		image,
	}
}

// MkfsEnv is the environment for mkfs.ext4: with a source date epoch,
// e2fsprogs stamps every time it writes with it instead of the clock.
func MkfsEnv(sourceDateEpoch int64) []string {
	if sourceDateEpoch <= 0 {
		return nil
	}
	return []string{"E2FSPROGS_FAKE_TIME=" + strconv.FormatInt(sourceDateEpoch, 10)}
}

// mtoolsEnv makes mtools stamp what it writes with the source date epoch.
func mtoolsEnv(sourceDateEpoch int64) []string {
	if sourceDateEpoch <= 0 {
		return nil
	}
	return []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(sourceDateEpoch, 10)}
}
