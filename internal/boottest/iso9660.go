package boottest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
)

// This file writes the small ISO 9660 images NoCloud seeds are: one root
// directory of a few files, with a Joliet tree so that Linux sees the files'
// real names (user-data, not USER_DATA.) and blkid sees the volume label.
//
// Layout, in 2048-byte sectors:
//
//	0-15  system area (zero)      21  Joliet path table, little-endian
//	16    primary descriptor      22  Joliet path table, big-endian
//	17    Joliet descriptor       23  primary root directory
//	18    descriptor terminator   24  Joliet root directory
//	19    path table, LE          25- file data, shared by both trees
//	20    path table, BE

const (
	isoSector       = 2048
	isoFirstFile    = 25
	isoMaxNameLen   = 64 // Joliet's limit, in UCS-2 characters
	isoPathTableLen = 10 // one root entry
)

// isoFile is a file in the image's root directory.
type isoFile struct {
	name string
	data []byte
}

// isoEntry is a file placed in the image.
type isoEntry struct {
	isoFile
	extent uint32
}

// buildISO returns an ISO 9660 image with Joliet names holding files in its
// root directory, every time stamp set to mtime.
func buildISO(volumeID string, files []isoFile, mtime time.Time) ([]byte, error) {
	if err := checkISONames(volumeID, files); err != nil {
		return nil, err
	}
	entries, total := placeFiles(files)
	primaryRoot, err := rootDir(isoFirstFile-2, entries, mtime, primaryName)
	if err != nil {
		return nil, err
	}
	jolietRoot, err := rootDir(isoFirstFile-1, entries, mtime, jolietName)
	if err != nil {
		return nil, err
	}
	img := make([]byte, int(total)*isoSector)
	copy(sectorAt(img, 16), volumeDescriptor(1, volumeID, total, 19, 20, isoFirstFile-2, mtime))
	copy(sectorAt(img, 17), volumeDescriptor(2, volumeID, total, 21, 22, isoFirstFile-1, mtime))
	copy(sectorAt(img, 18), append([]byte{255}, "CD001\x01"...))
	copy(sectorAt(img, 19), pathTable(binary.LittleEndian, isoFirstFile-2))
	copy(sectorAt(img, 20), pathTable(binary.BigEndian, isoFirstFile-2))
	copy(sectorAt(img, 21), pathTable(binary.LittleEndian, isoFirstFile-1))
	copy(sectorAt(img, 22), pathTable(binary.BigEndian, isoFirstFile-1))
	copy(sectorAt(img, isoFirstFile-2), primaryRoot)
	copy(sectorAt(img, isoFirstFile-1), jolietRoot)
	for _, e := range entries {
		copy(sectorAt(img, e.extent), e.data)
	}
	return img, nil
}

func sectorAt(img []byte, n uint32) []byte { return img[int(n)*isoSector:] }

func checkISONames(volumeID string, files []isoFile) error {
	if volumeID == "" || len(volumeID) > 16 {
		return fmt.Errorf("writing ISO 9660: volume identifier %q must have 1 to 16 characters", volumeID)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if f.name == "" || len(f.name) > isoMaxNameLen || strings.ContainsAny(f.name, "*/:;?\\") {
			return fmt.Errorf("writing ISO 9660: bad file name %q", f.name)
		}
		for _, r := range f.name {
			if r < 0x20 || r > 0xffff {
				return fmt.Errorf("writing ISO 9660: bad file name %q", f.name)
			}
		}
		if seen[primaryName(f.name)] {
			return fmt.Errorf("writing ISO 9660: two files named %s", primaryName(f.name))
		}
		seen[primaryName(f.name)] = true
	}
	return nil
}

// placeFiles gives each file its first sector and returns the image size
// in sectors.
func placeFiles(files []isoFile) ([]isoEntry, uint32) {
	next := uint32(isoFirstFile)
	entries := make([]isoEntry, len(files))
	for i, f := range files {
		entries[i] = isoEntry{isoFile: f, extent: next}
		next += uint32((len(f.data) + isoSector - 1) / isoSector)
	}
	return entries, next
}

// primaryName maps a name to ISO 9660 level 2 d-characters: "user-data"
// becomes "USER_DATA.;1".
func primaryName(name string) string {
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	s := string(b)
	if dot := strings.LastIndexByte(s, '.'); dot >= 0 {
		s = strings.ReplaceAll(s[:dot], ".", "_") + s[dot:]
	} else {
		s += "."
	}
	if len(s) > 30 {
		s = s[:30]
	}
	return s + ";1"
}

// jolietName is the name in UCS-2, big-endian.
func jolietName(name string) string { return ucs2(name) }

func ucs2(s string) string {
	var b bytes.Buffer
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u >> 8))
		b.WriteByte(byte(u))
	}
	return b.String()
}

// rootDir returns the root directory's one sector: ".", ".." and the files
// sorted by their identifier in this tree.
func rootDir(self uint32, entries []isoEntry, mtime time.Time, name func(string) string) ([]byte, error) {
	sorted := append([]isoEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return name(sorted[i].name) < name(sorted[j].name) })
	dir := dirRecord("\x00", self, isoSector, 2, mtime)
	dir = append(dir, dirRecord("\x01", self, isoSector, 2, mtime)...)
	for _, e := range sorted {
		dir = append(dir, dirRecord(name(e.name), e.extent, uint32(len(e.data)), 0, mtime)...)
	}
	if len(dir) > isoSector {
		return nil, errors.New("writing ISO 9660: too many files for one directory sector")
	}
	return dir, nil
}

// dirRecord is an ISO 9660 directory record (ECMA-119 9.1).
func dirRecord(id string, extent, size uint32, flags byte, t time.Time) []byte {
	n := 33 + len(id)
	if n%2 == 1 {
		n++
	}
	r := make([]byte, n)
	r[0] = byte(n)
	both32(r[2:], extent)
	both32(r[10:], size)
	t = t.UTC()
	copy(r[18:], []byte{byte(t.Year() - 1900), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()), 0})
	r[25] = flags
	both16(r[28:], 1)
	r[32] = byte(len(id))
	copy(r[33:], id)
	return r
}

// volumeDescriptor is the primary (kind 1) or Joliet supplementary (kind
// 2) volume descriptor (ECMA-119 8.4 and 8.5).
func volumeDescriptor(kind byte, volumeID string, sectors, lTable, mTable, root uint32, t time.Time) []byte {
	d := make([]byte, isoSector)
	d[0] = kind
	copy(d[1:], "CD001\x01")
	text := func(off, n int, s string) { fillText(d[off:off+n], s, kind == 2) }
	text(8, 32, "LINUX")
	text(40, 32, volumeID)
	both32(d[80:], sectors)
	if kind == 2 {
		copy(d[88:], "%/E") // UCS-2 level 3
	}
	both16(d[120:], 1)
	both16(d[124:], 1)
	both16(d[128:], isoSector)
	both32(d[132:], isoPathTableLen)
	binary.LittleEndian.PutUint32(d[140:], lTable)
	binary.BigEndian.PutUint32(d[148:], mTable)
	copy(d[156:], dirRecord("\x00", root, isoSector, 2, t))
	for _, f := range [][2]int{{190, 128}, {318, 128}, {446, 128}, {702, 37}, {739, 37}, {776, 37}} {
		text(f[0], f[1], "")
	}
	text(574, 128, "BAKERY")
	stamp := volumeTime(t)
	copy(d[813:], stamp)
	copy(d[830:], stamp)
	copy(d[847:], "0000000000000000\x00")
	copy(d[864:], stamp)
	d[881] = 1
	return d
}

// fillText writes s into field padded with spaces, in UCS-2 for Joliet.
func fillText(field []byte, s string, joliet bool) {
	if !joliet {
		copy(field, s+strings.Repeat(" ", len(field)))
		return
	}
	u := ucs2(s)
	for len(u)+2 <= len(field) {
		u += "\x00 "
	}
	copy(field, u)
}

func volumeTime(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%04d%02d%02d%02d%02d%02d00\x00", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
}

// pathTable is a path table holding only the root directory.
func pathTable(order binary.ByteOrder, root uint32) []byte {
	p := make([]byte, isoPathTableLen)
	p[0] = 1
	order.PutUint32(p[2:], root)
	order.PutUint16(p[6:], 1)
	return p
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b, v)
	binary.BigEndian.PutUint32(b[4:], v)
}

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b, v)
	binary.BigEndian.PutUint16(b[2:], v)
}
