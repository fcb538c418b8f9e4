package artifact

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// SparseReader reads a file from its current offset to the end like the
// file itself, but produces the zeros of holes from memory (SEEK_DATA and
// SEEK_HOLE) instead of asking the kernel for them: hashing a mostly empty
// raw disk image then costs little more than hashing its data.
type SparseReader struct {
	f        *os.File
	off      int64
	size     int64
	dataEnd  int64 // end of the data region off is in; -1 when off is in a hole
	holeEnd  int64 // end of the hole off is in
	fallback bool  // the filesystem cannot report holes: read everything
}

var zeros = make([]byte, 1<<16)

// NewSparseReader reads f from offset 0.
func NewSparseReader(f *os.File) (*SparseReader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return &SparseReader{f: f, size: st.Size(), dataEnd: -1}, nil
}

func (s *SparseReader) Read(p []byte) (int, error) {
	if s.off >= s.size {
		return 0, io.EOF
	}
	if s.fallback {
		return s.readData(p, s.size)
	}
	if s.off >= s.dataEnd && s.off >= s.holeEnd {
		s.locate()
	}
	if s.off < s.holeEnd {
		n := copy(p, zeros[:min(int64(len(zeros)), s.holeEnd-s.off)])
		s.off += int64(n)
		return n, nil
	}
	return s.readData(p, s.dataEnd)
}

// locate finds the data region or hole at s.off.
func (s *SparseReader) locate() {
	const seekData, seekHole = 3, 4
	start, err := s.f.Seek(s.off, seekData)
	if errors.Is(err, syscall.ENXIO) { // only a hole up to the end
		s.holeEnd, s.dataEnd = s.size, s.size
		return
	}
	if err != nil {
		s.fallback = true
		return
	}
	if start > s.off {
		s.holeEnd, s.dataEnd = start, start
		return
	}
	end, err := s.f.Seek(s.off, seekHole)
	if err != nil {
		s.fallback = true
		return
	}
	s.dataEnd = min(end, s.size)
}

func (s *SparseReader) readData(p []byte, end int64) (int, error) {
	if int64(len(p)) > end-s.off {
		p = p[:end-s.off]
	}
	n, err := s.f.ReadAt(p, s.off)
	s.off += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}
