package boottest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// GPT partition type GUIDs of a Linux root file system, as text.
const (
	TypeLinuxFilesystem = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	TypeLinuxRootX86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
)

// ErrNoGPT is returned for a disk without a (valid) GUID partition table.
var ErrNoGPT = errors.New("no GUID partition table")

// Partition is one GPT entry.
type Partition struct {
	Number   int    // 1-based position in the table
	Type     string // type GUID, upper case text
	Name     string
	FirstLBA uint64
	LastLBA  uint64
}

// Offset and Size are in bytes, for 512-byte sectors.
func (p Partition) Offset() int64 { return int64(p.FirstLBA) * sectorSize }
func (p Partition) Size() int64   { return int64(p.LastLBA-p.FirstLBA+1) * sectorSize }

const (
	sectorSize    = 512
	maxGPTEntries = 1024
)

// ReadGPT reads the primary GUID partition table of a raw disk with
// 512-byte sectors and returns its used entries in table order.
func ReadGPT(r io.ReaderAt) ([]Partition, error) {
	hdr := make([]byte, 92)
	if _, err := r.ReadAt(hdr, sectorSize); err != nil {
		return nil, fmt.Errorf("reading GPT header: %w", err)
	}
	if string(hdr[:8]) != "EFI PART" {
		return nil, ErrNoGPT
	}
	entriesLBA := binary.LittleEndian.Uint64(hdr[72:])
	count := binary.LittleEndian.Uint32(hdr[80:])
	size := binary.LittleEndian.Uint32(hdr[84:])
	if count == 0 || count > maxGPTEntries || size < 128 || size > 4096 || entriesLBA == 0 || entriesLBA > 1<<40 {
		return nil, fmt.Errorf("%w: implausible header (%d entries of %d bytes at LBA %d)", ErrNoGPT, count, size, entriesLBA)
	}
	table := make([]byte, int(count)*int(size))
	if _, err := r.ReadAt(table, int64(entriesLBA)*sectorSize); err != nil {
		return nil, fmt.Errorf("reading GPT entries: %w", err)
	}
	var parts []Partition
	for i := range int(count) {
		if p, ok := parseEntry(table[i*int(size) : (i+1)*int(size)]); ok {
			p.Number = i + 1
			parts = append(parts, p)
		}
	}
	return parts, nil
}

func parseEntry(e []byte) (Partition, bool) {
	if bytes.Equal(e[:16], make([]byte, 16)) {
		return Partition{}, false // unused
	}
	p := Partition{
		Type:     guidString(e[:16]),
		FirstLBA: binary.LittleEndian.Uint64(e[32:]),
		LastLBA:  binary.LittleEndian.Uint64(e[40:]),
	}
	if p.LastLBA < p.FirstLBA {
		return Partition{}, false
	}
	name := make([]uint16, 36)
	for i := range name {
		name[i] = binary.LittleEndian.Uint16(e[56+2*i:])
	}
	p.Name = strings.TrimRight(string(utf16.Decode(name)), "\x00")
	return p, true
}

// guidString formats a GUID stored the mixed-endian way GPT stores it.
func guidString(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X",
		binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}

// RootPartition picks the root file system: the largest partition typed
// as Linux root or Linux file system.
func RootPartition(parts []Partition) (Partition, error) {
	var best Partition
	for _, p := range parts {
		if (p.Type == TypeLinuxFilesystem || p.Type == TypeLinuxRootX86_64) && p.Size() > best.Size() {
			best = p
		}
	}
	if best.Number == 0 {
		return Partition{}, fmt.Errorf("no Linux file system partition among %d partitions", len(parts))
	}
	return best, nil
}
