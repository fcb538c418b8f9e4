package disk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// copyChunk is the unit of the sparse copy: all-zero chunks are skipped,
// leaving holes in the (freshly truncated, so zero) destination.
const copyChunk = 1 << 20

// lseek whence values that find data and holes in sparse files (Linux).
const (
	seekData = 3
	seekHole = 4
)

// ErrTooLarge is returned when a partition image does not fit its partition.
var ErrTooLarge = errors.New("image larger than partition")

// writeImageAt copies the file at src into dst at byte offset off, at most
// max bytes. It reads only the data extents of src and skips zero chunks,
// so the disk file stays sparse. report, if not nil, gets the bytes done.
func writeImageAt(dst *os.File, src string, off, max int64, report func(done, total int64)) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	size := st.Size()
	if size > max {
		return fmt.Errorf("writing %s (%d bytes) into %d bytes: %w", src, size, max, ErrTooLarge)
	}
	for pos := int64(0); pos < size; {
		start, end, err := nextExtent(in, pos, size)
		if err != nil {
			return fmt.Errorf("reading %s: %w", src, err)
		}
		if err := copyRange(dst, in, start, end, off); err != nil {
			return err
		}
		pos = end
		if report != nil {
			report(pos, size)
		}
	}
	return nil
}

// nextExtent finds the next run of data at or after pos. Without
// SEEK_DATA support, everything from pos to size is data.
func nextExtent(f *os.File, pos, size int64) (start, end int64, err error) {
	start, err = f.Seek(pos, seekData)
	if errors.Is(err, syscall.ENXIO) {
		return size, size, nil // only a hole is left
	}
	if err != nil {
		return pos, size, nil
	}
	end, err = f.Seek(start, seekHole)
	if err != nil || end > size {
		end = size
	}
	return start, end, nil
}

// copyRange copies bytes [start, end) of in to dst at off+start, skipping
// all-zero chunks.
func copyRange(dst, in *os.File, start, end, off int64) error {
	buf := make([]byte, copyChunk)
	zero := make([]byte, copyChunk)
	for pos := start; pos < end; {
		n := int(min(int64(copyChunk), end-pos))
		if _, err := in.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading %s: %w", in.Name(), err)
		}
		if !bytes.Equal(buf[:n], zero[:n]) {
			if _, err := dst.WriteAt(buf[:n], off+pos); err != nil {
				return fmt.Errorf("writing %s into %s: %w", in.Name(), dst.Name(), err)
			}
		}
		pos += int64(n)
	}
	return nil
}
