package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// Offsets in GRUB's i386-pc boot.img (the MBR boot code), from GRUB's
// include/grub/i386/pc/boot.h. grub-bios-setup patches these; so do we.
const (
	bootBPBStart     = 0x03  // start of the BIOS parameter block (kept from the disk)
	bootBPBEnd       = 0x5a  // end of the BIOS parameter block
	bootKernelSector = 0x5c  // uint64 LE: LBA of the first sector of core.img
	bootDrive        = 0x64  // drive to load core.img from; 0xff = the boot drive
	bootDriveCheck   = 0x66  // 2-byte jmp that skips the buggy-BIOS drive check
	bootNTMagic      = 0x1b8 // disk signature, then the partition table
	bootPartEnd      = 0x1fe // end of the partition table; 0x55 0xaa follow

	// The blocklist at the end of diskboot.img (the first sector of
	// core.img): start LBA (uint64), sector count (uint16), load segment
	// (uint16).
	blocklistSize = 12
	coreLoadSeg   = 0x820
)

// ErrBadBootImage is returned when boot.img or core.img do not look like
// GRUB i386-pc images.
var ErrBadBootImage = errors.New("not a GRUB i386-pc boot image")

// WriteBIOSBoot installs GRUB for BIOS on disk, as grub-bios-setup does for
// a GPT disk with a BIOS boot partition: it writes coreImg at coreLBA with
// its blocklist pointing at its own remaining sectors, and writes bootImg to
// the MBR, pointing at coreLBA, keeping the disk's BPB area, disk signature
// and (protective) partition table.
func WriteBIOSBoot(disk *os.File, bootImg, coreImg []byte, coreLBA int64) error {
	mbr := make([]byte, SectorSize)
	if _, err := disk.ReadAt(mbr, 0); err != nil {
		return fmt.Errorf("reading MBR of %s: %w", disk.Name(), err)
	}
	boot, err := PatchBootImage(bootImg, mbr, coreLBA)
	if err != nil {
		return err
	}
	core, err := PatchCoreImage(coreImg, coreLBA)
	if err != nil {
		return err
	}
	if _, err := disk.WriteAt(core, coreLBA*SectorSize); err != nil {
		return fmt.Errorf("writing core image to %s: %w", disk.Name(), err)
	}
	if _, err := disk.WriteAt(boot, 0); err != nil {
		return fmt.Errorf("writing MBR of %s: %w", disk.Name(), err)
	}
	return nil
}

// PatchBootImage returns the MBR to write: bootImg with the BPB area and
// everything from the disk signature to the end of the partition table
// taken from the existing mbr, the core image's LBA patched in, the boot
// drive set to "the drive we booted from" and the drive check enabled.
func PatchBootImage(bootImg, mbr []byte, coreLBA int64) ([]byte, error) {
	if len(bootImg) != SectorSize || len(mbr) != SectorSize || bootImg[510] != 0x55 || bootImg[511] != 0xaa {
		return nil, fmt.Errorf("patching boot.img: %w", ErrBadBootImage)
	}
	out := append([]byte(nil), bootImg...)
	copy(out[bootBPBStart:bootBPBEnd], mbr[bootBPBStart:bootBPBEnd])
	copy(out[bootNTMagic:bootPartEnd], mbr[bootNTMagic:bootPartEnd])
	binary.LittleEndian.PutUint64(out[bootKernelSector:], uint64(coreLBA))
	out[bootDrive] = 0xff
	// On a hard disk, grub-bios-setup replaces the jmp over the check for
	// BIOSes that pass a bogus drive number with two NOPs.
	out[bootDriveCheck], out[bootDriveCheck+1] = 0x90, 0x90
	return out, nil
}

// PatchCoreImage returns coreImg padded to whole sectors with the
// blocklist in its first sector (diskboot.img) set to load the remaining
// sectors, which follow it on disk from coreLBA+1.
func PatchCoreImage(coreImg []byte, coreLBA int64) ([]byte, error) {
	sectors := (len(coreImg) + SectorSize - 1) / SectorSize
	if sectors < 2 || sectors-1 > 0xffff {
		return nil, fmt.Errorf("patching core.img of %d bytes: %w", len(coreImg), ErrBadBootImage)
	}
	out := make([]byte, sectors*SectorSize)
	copy(out, coreImg)
	bl := out[SectorSize-blocklistSize : SectorSize]
	if binary.LittleEndian.Uint16(bl[10:]) != coreLoadSeg {
		return nil, fmt.Errorf("patching core.img: no diskboot blocklist: %w", ErrBadBootImage)
	}
	binary.LittleEndian.PutUint64(bl[0:], uint64(coreLBA+1))
	binary.LittleEndian.PutUint16(bl[8:], uint16(sectors-1))
	return out, nil
}
