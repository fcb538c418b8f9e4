package disk

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// Sizes are in bytes; the disk is addressed in 512-byte sectors.
const (
	SectorSize = 512
	MiB        = 1 << 20

	biosBootStart = 1 * MiB
	biosBootSize  = 3 * MiB
	espStart      = biosBootStart + biosBootSize
	espSize       = 124 * MiB
	rootStart     = espStart + espSize
	// gptBackupSize is what the backup GPT (128 entries + header) takes at
	// the end of the disk.
	gptBackupSize = 33 * SectorSize
	// MinRootSize is the smallest root partition PlanLayout accepts.
	MinRootSize = 64 * MiB
	// MinSize is the smallest disk PlanLayout accepts.
	MinSize = rootStart + MinRootSize + MiB
)

// GPT partition type GUIDs.
const (
	TypeBIOSBoot = "21686148-6449-6E6F-744E-656564454649"
	TypeESP      = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	TypeLinux    = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
)

// Partition numbers, as in Debian's cloud images: the root partition is
// number 1 and last on disk so that growpart can extend it.
const (
	PartRoot     = 1
	PartBIOSBoot = 14
	PartESP      = 15
)

var (
	// ErrTooSmall is returned when the disk cannot hold the layout.
	ErrTooSmall = errors.New("disk too small")
	// ErrUnaligned is returned when the disk size is not a whole number of sectors.
	ErrUnaligned = errors.New("disk size not a multiple of 512 bytes")
	// ErrNoSeed is returned when no seed is given to derive identifiers from.
	ErrNoSeed = errors.New("empty seed")
)

// Partition is one GPT partition. Start and Size are in bytes.
type Partition struct {
	Number   int
	Start    int64
	Size     int64
	TypeGUID string
	GUID     string
}

// StartLBA is the partition's first sector.
func (p Partition) StartLBA() int64 { return p.Start / SectorSize }

// Sectors is the partition's length in sectors.
func (p Partition) Sectors() int64 { return p.Size / SectorSize }

// Layout is the complete, reproducible description of a disk: every
// identifier is derived from the seed.
type Layout struct {
	Size         int64
	DiskGUID     string
	RootUUID     string // ext4 filesystem UUID
	RootHashSeed string // ext4 directory hash seed
	ESPVolumeID  string // FAT volume id as shown by blkid: XXXX-XXXX
	BIOSBoot     Partition
	ESP          Partition
	Root         Partition
}

// Partitions lists the partitions in disk order.
func (l Layout) Partitions() []Partition { return []Partition{l.BIOSBoot, l.ESP, l.Root} }

// PlanLayout computes the layout of a disk of size bytes. It does no I/O:
// the same size and seed always give the same layout.
func PlanLayout(size int64, seed string) (Layout, error) {
	if seed == "" {
		return Layout{}, fmt.Errorf("planning layout: %w", ErrNoSeed)
	}
	if size%SectorSize != 0 {
		return Layout{}, fmt.Errorf("planning layout for %d bytes: %w", size, ErrUnaligned)
	}
	rootSize := (size - gptBackupSize - rootStart) / MiB * MiB
	if size < MinSize || rootSize < MinRootSize {
		return Layout{}, fmt.Errorf("planning layout for %d bytes (minimum %d): %w", size, MinSize, ErrTooSmall)
	}
	return Layout{
		Size:         size,
		DiskGUID:     DeriveUUID(seed, "disk"),
		RootUUID:     DeriveUUID(seed, "rootfs"),
		RootHashSeed: DeriveUUID(seed, "rootfs-hash-seed"),
		ESPVolumeID:  DeriveVolumeID(seed, "esp"),
		BIOSBoot:     Partition{PartBIOSBoot, biosBootStart, biosBootSize, TypeBIOSBoot, DeriveUUID(seed, "part-bios-boot")},
		ESP:          Partition{PartESP, espStart, espSize, TypeESP, DeriveUUID(seed, "part-esp")},
		Root:         Partition{PartRoot, rootStart, rootSize, TypeLinux, DeriveUUID(seed, "part-root")},
	}, nil
}

// DeriveUUID returns a version-4-shaped UUID (lower case, as blkid and
// /dev/disk/by-uuid show ext4 UUIDs) computed from seed and purpose. Different purposes give unrelated
// identifiers; nothing is random.
func DeriveUUID(seed, purpose string) string {
	sum := sha256.Sum256([]byte("bakery/disk/" + purpose + "\x00" + seed))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// DeriveVolumeID returns a FAT volume serial in blkid's XXXX-XXXX form.
func DeriveVolumeID(seed, purpose string) string {
	sum := sha256.Sum256([]byte("bakery/disk/" + purpose + "\x00" + seed))
	return strings.ToUpper(fmt.Sprintf("%x-%x", sum[0:2], sum[2:4]))
}

// volumeSerial is the volume id as mformat -N wants it: eight hex digits.
func volumeSerial(volumeID string) string { return strings.ReplaceAll(volumeID, "-", "") }
