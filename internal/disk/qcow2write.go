package disk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"syscall"

	"github.com/klauspost/compress/flate"
)

// A compressed qcow2 (version 3, zlib compression type) written by bakery
// itself: the clusters of the raw image are deflated by a pool of workers
// and written in cluster order, so the file is the same bytes whatever the
// number of workers or their timing, and does not depend on the host's
// qemu-img. Layout: the header in cluster 0; the data from cluster 1 on
// (compressed clusters packed byte by byte as QEMU packs them, a cluster
// that does not compress stored whole at a cluster boundary, all-zero
// clusters left unallocated); then the L2 tables, the L1 table, the
// refcount blocks and the refcount table.

const (
	qcowClusterBits   = 16
	qcowClusterSize   = 1 << qcowClusterBits
	qcowL2Entries     = qcowClusterSize / 8
	qcowRefcountOrder = 4 // 16-bit refcounts
	qcowRefsPerBlock  = qcowClusterSize * 8 / (1 << qcowRefcountOrder)
	qcowHeaderLength  = 112
	qcowCompressed    = 1 << 62
	qcowCopied        = 1 << 63
	qcowCsizeShift    = 62 - (qcowClusterBits - 8)
	qcowSector        = 512
	// qcowDeflateLevel matches QEMU's Z_DEFAULT_COMPRESSION.
	qcowDeflateLevel = 6
	// qcowBatch is how many clusters one worker job compresses.
	qcowBatch = 32
)

// WriteQCOW2 writes the raw image as a zlib-compressed qcow2 at out
// (through a temporary file renamed into place), compressing with workers
// goroutines (0 = one per CPU).
func WriteQCOW2(ctx context.Context, raw, out string, workers int) error {
	in, err := os.Open(raw)
	if err != nil {
		return fmt.Errorf("writing qcow2 %s: %w", out, err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("writing qcow2 %s: %w", out, err)
	}
	tmp := out + ".tmp"
	defer os.Remove(tmp)
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("writing qcow2 %s: %w", out, err)
	}
	err = writeQCOW2(ctx, sparseReader{in, dataExtents(in, st.Size())}, st.Size(), f, workers)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		return fmt.Errorf("writing qcow2 %s: %w", out, err)
	}
	return nil
}

// qcowImage collects where each guest cluster went and how often each host
// cluster is referenced.
type qcowImage struct {
	size   int64    // virtual size
	l2     []uint64 // one entry per guest cluster
	refs   []uint16 // per host cluster
	offset int64    // next free byte of the file
}

func (q *qcowImage) ref(from, to int64) { // host bytes [from, to)
	for c := from >> qcowClusterBits; c <= (to-1)>>qcowClusterBits; c++ {
		for int64(len(q.refs)) <= c {
			q.refs = append(q.refs, 0)
		}
		q.refs[c]++
	}
}

func writeQCOW2(ctx context.Context, in io.ReaderAt, size int64, w io.WriteSeeker, workers int) error {
	if size <= 0 || size%qcowSector != 0 {
		return fmt.Errorf("raw image size %d is not a positive multiple of %d", size, qcowSector)
	}
	q := &qcowImage{size: size, l2: make([]uint64, (size+qcowClusterSize-1)/qcowClusterSize), offset: qcowClusterSize}
	q.ref(0, qcowClusterSize) // the header
	if _, err := w.Seek(qcowClusterSize, io.SeekStart); err != nil {
		return err
	}
	bw := &offsetWriter{w: w, off: qcowClusterSize}
	if err := q.writeData(ctx, in, bw, workers); err != nil {
		return err
	}
	return q.writeMetadata(bw, w)
}

// offsetWriter writes sequentially and knows where it is.
type offsetWriter struct {
	w   io.Writer
	off int64
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.off += int64(n)
	return n, err
}

func (o *offsetWriter) pad(to int64) error {
	if to <= o.off {
		return nil
	}
	_, err := o.Write(make([]byte, to-o.off))
	return err
}

// compressed is one batch of clusters: nil for an all-zero cluster, else
// the deflated bytes (or the raw cluster when deflate did not help: raw
// is then true).
type compressedBatch struct {
	first int64
	data  [][]byte
	raw   []bool
	err   error
}

// writeData compresses the clusters with a worker pool and writes them in
// order: job i's result is written before job i+1's, whatever finished
// first.
func (q *qcowImage) writeData(ctx context.Context, in io.ReaderAt, w *offsetWriter, workers int) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	nclusters := int64(len(q.l2))
	jobs := make(chan chan compressedBatch, workers*2) // in order
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, workers)
	go func() {
		defer close(jobs)
		for first := int64(0); first < nclusters; first += qcowBatch {
			res := make(chan compressedBatch, 1)
			select {
			case jobs <- res:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func(first int64) {
				defer func() { <-sem }()
				res <- compressClusters(in, q.size, first, min(first+qcowBatch, nclusters))
			}(first)
		}
	}()
	for res := range jobs {
		b := <-res
		if b.err != nil {
			return b.err
		}
		if err := q.place(w, b); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// place writes one batch and records its L2 entries and refcounts.
func (q *qcowImage) place(w *offsetWriter, b compressedBatch) error {
	for i, data := range b.data {
		c := b.first + int64(i)
		switch {
		case data == nil:
			continue
		case b.raw[i]:
			if err := w.pad(alignUp(w.off, qcowClusterSize)); err != nil {
				return err
			}
			q.l2[c] = uint64(w.off) | qcowCopied
			q.ref(w.off, w.off+qcowClusterSize)
		default:
			start := w.off
			nsectors := (start+int64(len(data))-1)/qcowSector - start/qcowSector // additional sectors
			q.l2[c] = uint64(start) | qcowCompressed | uint64(nsectors)<<qcowCsizeShift
			q.ref(start, (start/qcowSector+nsectors+1)*qcowSector)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return nil
}

var zeroCluster = make([]byte, qcowClusterSize)

func compressClusters(in io.ReaderAt, size, first, end int64) compressedBatch {
	b := compressedBatch{first: first, data: make([][]byte, end-first), raw: make([]bool, end-first)}
	buf := make([]byte, qcowClusterSize)
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, qcowDeflateLevel)
	if err != nil {
		b.err = err
		return b
	}
	for c := first; c < end; c++ {
		clear(buf)
		n := min(int64(qcowClusterSize), size-c*qcowClusterSize)
		if _, err := in.ReadAt(buf[:n], c*qcowClusterSize); err != nil && !errors.Is(err, io.EOF) {
			b.err = fmt.Errorf("reading raw image: %w", err)
			return b
		}
		if bytes.Equal(buf, zeroCluster) {
			continue
		}
		out.Reset()
		fw.Reset(&out)
		if _, err := fw.Write(buf); err == nil {
			err = fw.Close()
		}
		if out.Len() >= qcowClusterSize-1 { // as QEMU: store what does not compress
			b.data[c-first], b.raw[c-first] = append([]byte(nil), buf...), true
			continue
		}
		b.data[c-first] = append([]byte(nil), out.Bytes()...)
	}
	return b
}

// writeMetadata appends the L2 tables, the L1 table, the refcount blocks
// and table, then writes the header.
func (q *qcowImage) writeMetadata(w *offsetWriter, seeker io.WriteSeeker) error {
	if err := w.pad(alignUp(w.off, qcowClusterSize)); err != nil {
		return err
	}
	l1 := make([]uint64, (int64(len(q.l2))+qcowL2Entries-1)/qcowL2Entries)
	for i := range l1 {
		table := q.l2[i*qcowL2Entries : min((i+1)*qcowL2Entries, len(q.l2))]
		if allZero(table) {
			continue
		}
		l1[i] = uint64(w.off) | qcowCopied
		q.ref(w.off, w.off+qcowClusterSize)
		if err := writeTable(w, table, qcowClusterSize); err != nil {
			return err
		}
	}
	l1Offset := w.off
	l1Bytes := alignUp(int64(len(l1))*8, qcowClusterSize)
	q.ref(l1Offset, l1Offset+l1Bytes)
	if err := writeTable(w, l1, l1Bytes); err != nil {
		return err
	}
	rtOffset, rtClusters, err := q.writeRefcounts(w)
	if err != nil {
		return err
	}
	if _, err := seeker.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err = seeker.Write(q.header(int64(len(l1)), l1Offset, rtOffset, rtClusters))
	return err
}

// writeRefcounts appends the refcount blocks and then the refcount table,
// sized so that they count themselves too.
func (q *qcowImage) writeRefcounts(w *offsetWriter) (tableOffset int64, tableClusters int64, err error) {
	base := w.off >> qcowClusterBits // first cluster of the refcount area
	nblocks, ntable := int64(1), int64(1)
	for {
		total := base + nblocks + ntable
		nb := (total + qcowRefsPerBlock - 1) / qcowRefsPerBlock
		nt := (nb*8 + qcowClusterSize - 1) / qcowClusterSize
		if nb == nblocks && nt == ntable {
			break
		}
		nblocks, ntable = nb, nt
	}
	q.ref(w.off, w.off+(nblocks+ntable)*qcowClusterSize)
	table := make([]uint64, nblocks)
	for i := range table {
		table[i] = uint64(w.off)
		block := make([]byte, qcowClusterSize)
		for j := 0; j < qcowRefsPerBlock; j++ {
			if c := int64(i)*qcowRefsPerBlock + int64(j); c < int64(len(q.refs)) {
				binary.BigEndian.PutUint16(block[2*j:], q.refs[c])
			}
		}
		if _, err := w.Write(block); err != nil {
			return 0, 0, err
		}
	}
	tableOffset = w.off
	return tableOffset, ntable, writeTable(w, table, ntable*qcowClusterSize)
}

func (q *qcowImage) header(l1Size, l1Offset, rtOffset, rtClusters int64) []byte {
	h := make([]byte, qcowClusterSize)
	be := binary.BigEndian
	copy(h, "QFI\xfb")
	be.PutUint32(h[4:], 3)                   // version
	be.PutUint32(h[20:], qcowClusterBits)    // cluster_bits
	be.PutUint64(h[24:], uint64(q.size))     // size
	be.PutUint32(h[36:], uint32(l1Size))     // l1_size
	be.PutUint64(h[40:], uint64(l1Offset))   // l1_table_offset
	be.PutUint64(h[48:], uint64(rtOffset))   // refcount_table_offset
	be.PutUint32(h[56:], uint32(rtClusters)) // refcount_table_clusters
	be.PutUint32(h[96:], qcowRefcountOrder)  // refcount_order
	be.PutUint32(h[100:], qcowHeaderLength)  // header_length
	h[104] = 0                               // compression_type: zlib
	return h[:qcowHeaderLength+8]            // and an empty header extension: end of extensions
}

func writeTable(w io.Writer, entries []uint64, bytesLen int64) error {
	buf := make([]byte, bytesLen)
	for i, e := range entries {
		binary.BigEndian.PutUint64(buf[8*i:], e)
	}
	_, err := w.Write(buf)
	return err
}

func allZero(s []uint64) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}

func alignUp(n, to int64) int64 { return (n + to - 1) / to * to }

// extent is a byte range [start, end) of a file holding data.
type extent struct{ start, end int64 }

// dataExtents lists the data regions of a sparse file (SEEK_DATA and
// SEEK_HOLE), or the whole file where the filesystem cannot tell.
func dataExtents(f *os.File, size int64) []extent {
	const seekData, seekHole = 3, 4
	var out []extent
	for off := int64(0); off < size; {
		start, err := f.Seek(off, seekData)
		if err != nil { // ENXIO: no data after off; anything else: assume data
			if errors.Is(err, syscall.ENXIO) {
				break
			}
			return []extent{{0, size}}
		}
		end, err := f.Seek(start, seekHole)
		if err != nil {
			return []extent{{0, size}}
		}
		out = append(out, extent{start, end})
		off = end
	}
	return out
}

// sparseReader reads zeros without touching the file where it has holes.
type sparseReader struct {
	f    io.ReaderAt
	data []extent
}

// hole reports whether [off, off+n) lies entirely in a hole.
func (s sparseReader) hole(off, n int64) bool {
	i := sort.Search(len(s.data), func(i int) bool { return s.data[i].end > off })
	return i == len(s.data) || s.data[i].start >= off+n
}

func (s sparseReader) ReadAt(p []byte, off int64) (int, error) {
	if s.hole(off, int64(len(p))) {
		clear(p)
		return len(p), nil
	}
	return s.f.ReadAt(p, off)
}
