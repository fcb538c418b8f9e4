package boottest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// guidBytes is the on-disk (mixed-endian) form of a GUID in text form.
func guidBytes(t *testing.T, s string) []byte {
	t.Helper()
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		t.Fatalf("bad GUID %q", s)
	}
	out := append([]byte(nil), raw...)
	slices.Reverse(out[0:4])
	slices.Reverse(out[4:6])
	slices.Reverse(out[6:8])
	return out
}

type testPart struct {
	typ         string
	first, last uint64
	name        string
}

// makeGPT writes a disk with a primary GPT (128 entries at LBA 2) holding
// parts at the given entry slots.
func makeGPT(t *testing.T, parts map[int]testPart) []byte {
	t.Helper()
	disk := make([]byte, 64*sectorSize)
	hdr := disk[sectorSize:]
	copy(hdr, "EFI PART")
	binary.LittleEndian.PutUint64(hdr[72:], 2)
	binary.LittleEndian.PutUint32(hdr[80:], 128)
	binary.LittleEndian.PutUint32(hdr[84:], 128)
	for slot, p := range parts {
		e := disk[2*sectorSize+slot*128:]
		copy(e, guidBytes(t, p.typ))
		copy(e[16:], bytes.Repeat([]byte{0xab}, 16))
		binary.LittleEndian.PutUint64(e[32:], p.first)
		binary.LittleEndian.PutUint64(e[40:], p.last)
		for i, u := range utf16.Encode([]rune(p.name)) {
			binary.LittleEndian.PutUint16(e[56+2*i:], u)
		}
	}
	return disk
}

func TestReadGPTBakeryLayout(t *testing.T) {
	// The layout bakery builds: root first in the table but last on disk.
	disk := makeGPT(t, map[int]testPart{
		0:  {TypeLinuxFilesystem, 262144, 8388574, "root"},
		13: {"21686148-6449-6E6F-744E-656564454649", 2048, 8191, "bios"},
		14: {"C12A7328-F81F-11D2-BA4B-00A0C93EC93B", 8192, 262143, "esp"},
	})
	parts, err := ReadGPT(bytes.NewReader(disk))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 || parts[0].Number != 1 || parts[1].Number != 14 || parts[2].Number != 15 {
		t.Fatalf("partitions %+v", parts)
	}
	if parts[2].Type != "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" || parts[2].Name != "esp" {
		t.Errorf("ESP read as %+v", parts[2])
	}
	root, err := RootPartition(parts)
	if err != nil || root.Number != 1 || root.Offset() != 262144*512 || root.Size() != (8388574-262144+1)*512 {
		t.Errorf("RootPartition = %+v, %v", root, err)
	}
}

func TestRootPartitionPicksLargestLinux(t *testing.T) {
	parts := []Partition{
		{Number: 1, Type: TypeLinuxFilesystem, FirstLBA: 2048, LastLBA: 4095},
		{Number: 2, Type: TypeLinuxRootX86_64, FirstLBA: 4096, LastLBA: 999999},
		{Number: 3, Type: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", FirstLBA: 1000000, LastLBA: 9999999},
	}
	if root, err := RootPartition(parts); err != nil || root.Number != 2 {
		t.Errorf("RootPartition = %+v, %v", root, err)
	}
	if _, err := RootPartition(parts[2:]); err == nil {
		t.Error("RootPartition without a Linux partition succeeded")
	}
}

func TestReadGPTRejects(t *testing.T) {
	if _, err := ReadGPT(bytes.NewReader(make([]byte, 64*sectorSize))); !errors.Is(err, ErrNoGPT) {
		t.Errorf("blank disk: %v", err)
	}
	disk := makeGPT(t, nil)
	binary.LittleEndian.PutUint32(disk[sectorSize+80:], 1<<20)
	if _, err := ReadGPT(bytes.NewReader(disk)); !errors.Is(err, ErrNoGPT) {
		t.Errorf("a million entries: %v", err)
	}
	if _, err := ReadGPT(bytes.NewReader(disk[:700])); err == nil {
		t.Error("truncated disk accepted")
	}
}

func FuzzReadGPT(f *testing.F) {
	f.Add(make([]byte, 4*sectorSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		disk := make([]byte, 64*sectorSize)
		copy(disk[sectorSize:], "EFI PART")
		copy(disk[sectorSize+8:], b)
		parts, err := ReadGPT(bytes.NewReader(disk))
		if err == nil {
			for _, p := range parts {
				if p.LastLBA < p.FirstLBA {
					t.Fatalf("partition ends before it starts: %+v", p)
				}
			}
		}
	})
}
