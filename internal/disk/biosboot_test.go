package disk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeBootImg is shaped like GRUB's boot.img: a jmp, a BPB area, the
// kernel sector (1), boot drive (0xff), the drive-check jmp, code in the
// partition table area (as the floppy probe is) and the 0x55aa signature.
func fakeBootImg() []byte {
	b := bytes.Repeat([]byte{0xcc}, SectorSize)
	b[0], b[1], b[2] = 0xeb, 0x63, 0x90
	binary.LittleEndian.PutUint64(b[bootKernelSector:], 1)
	b[bootDrive] = 0xff
	b[bootDriveCheck], b[bootDriveCheck+1] = 0xeb, 0x05
	b[510], b[511] = 0x55, 0xaa
	return b
}

// fakeCoreImg is n bytes shaped like grub-mkimage's core.img: diskboot.img
// with its default blocklist, then the rest.
func fakeCoreImg(n int) []byte {
	c := bytes.Repeat([]byte{0xab}, n)
	bl := c[SectorSize-blocklistSize : SectorSize]
	binary.LittleEndian.PutUint64(bl, 2)
	binary.LittleEndian.PutUint16(bl[8:], 0)
	binary.LittleEndian.PutUint16(bl[10:], coreLoadSeg)
	return c
}

// protectiveMBR is a sector as sfdisk writes it: zeros, a disk signature,
// one protective partition entry and the boot signature.
func protectiveMBR() []byte {
	m := make([]byte, SectorSize)
	copy(m[bootNTMagic:], []byte{0xde, 0xad, 0xbe, 0xef, 0, 0})
	copy(m[0x1be:], []byte{0x00, 0x00, 0x02, 0x00, 0xee, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	m[510], m[511] = 0x55, 0xaa
	return m
}

func TestWriteBIOSBoot(t *testing.T) {
	const coreLBA = 2048
	const coreLen = 40*SectorSize + 100 // 41 sectors once padded
	path := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(8 * MiB); err != nil {
		t.Fatal(err)
	}
	mbr := protectiveMBR()
	if _, err := f.WriteAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	boot, core := fakeBootImg(), fakeCoreImg(coreLen)
	if err := WriteBIOSBoot(f, boot, core, coreLBA); err != nil {
		t.Fatal(err)
	}

	got := make([]byte, SectorSize)
	if _, err := f.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if lba := binary.LittleEndian.Uint64(got[0x5c:]); lba != coreLBA {
		t.Errorf("kernel sector = %d, want %d", lba, coreLBA)
	}
	if got[0x64] != 0xff {
		t.Errorf("boot drive = %#x, want 0xff", got[0x64])
	}
	if got[0x66] != 0x90 || got[0x67] != 0x90 {
		t.Errorf("drive check = % x, want 90 90", got[0x66:0x68])
	}
	if !bytes.Equal(got[0x1b8:0x1fe], mbr[0x1b8:0x1fe]) {
		t.Errorf("disk signature and partition table not preserved:\n% x\nwant\n% x", got[0x1b8:0x1fe], mbr[0x1b8:0x1fe])
	}
	if !bytes.Equal(got[0x03:0x5a], mbr[0x03:0x5a]) {
		t.Error("BPB area not taken from the disk")
	}
	if !bytes.Equal(got[:3], boot[:3]) || !bytes.Equal(got[0x68:0x1b8], boot[0x68:0x1b8]) {
		t.Error("boot code not copied from boot.img")
	}
	if got[510] != 0x55 || got[511] != 0xaa {
		t.Errorf("signature = % x", got[510:])
	}

	disk := make([]byte, 41*SectorSize)
	if _, err := f.ReadAt(disk, coreLBA*SectorSize); err != nil {
		t.Fatal(err)
	}
	bl := disk[SectorSize-12 : SectorSize]
	if start := binary.LittleEndian.Uint64(bl); start != coreLBA+1 {
		t.Errorf("blocklist start = %d, want %d", start, coreLBA+1)
	}
	if n := binary.LittleEndian.Uint16(bl[8:]); n != 40 {
		t.Errorf("blocklist length = %d, want 40", n)
	}
	if seg := binary.LittleEndian.Uint16(bl[10:]); seg != 0x820 {
		t.Errorf("blocklist segment = %#x, want 0x820", seg)
	}
	if !bytes.Equal(disk[SectorSize:coreLen], core[SectorSize:]) || !bytes.Equal(disk[:SectorSize-12], core[:SectorSize-12]) {
		t.Error("core.img not written at its LBA")
	}
	if !bytes.Equal(disk[coreLen:], make([]byte, len(disk)-coreLen)) {
		t.Error("last core sector not zero-padded")
	}
}

func TestPatchBootImageErrors(t *testing.T) {
	mbr := protectiveMBR()
	bad := fakeBootImg()
	bad[511] = 0
	for name, img := range map[string][]byte{"short": make([]byte, 100), "no signature": bad} {
		if _, err := PatchBootImage(img, mbr, 2048); !errors.Is(err, ErrBadBootImage) {
			t.Errorf("%s: err = %v, want ErrBadBootImage", name, err)
		}
	}
}

func TestPatchCoreImageErrors(t *testing.T) {
	noList := fakeCoreImg(4 * SectorSize)
	noList[SectorSize-1] = 0
	tests := map[string][]byte{
		"one sector":   fakeCoreImg(SectorSize),
		"no blocklist": noList,
		"too large":    fakeCoreImg(0x10002 * SectorSize),
	}
	for name, img := range tests {
		if _, err := PatchCoreImage(img, 2048); !errors.Is(err, ErrBadBootImage) {
			t.Errorf("%s: err = %v, want ErrBadBootImage", name, err)
		}
	}
}

// TestRealBootImage checks the offsets against the host's GRUB, if any.
func TestRealBootImage(t *testing.T) {
	boot, err := os.ReadFile(filepath.Join(DefaultGrubDir, "i386-pc", "boot.img"))
	if err != nil {
		t.Skip("GRUB i386-pc not installed")
	}
	if boot[bootDrive] != 0xff || boot[bootDriveCheck] != 0xeb || binary.LittleEndian.Uint64(boot[bootKernelSector:]) != 1 {
		t.Errorf("boot.img layout differs from GRUB 2: % x", boot[0x5a:0x70])
	}
	if _, err := PatchBootImage(boot, protectiveMBR(), 2048); err != nil {
		t.Error(err)
	}
}
