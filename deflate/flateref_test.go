package deflate

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

const (
	refIdle uint8 = iota
	refActive
	refDone
)

// refDecompressor is the compress/flate-based Decompressor this package
// had before its own inflater, kept as a reference for differential tests.
type refDecompressor struct {
	window   int
	takeover bool
	limit    int64

	hist    []byte // last window bytes of output; a ring while reading
	histPos int    // oldest byte of hist once it is full

	state uint8
	inf   *refInflater // non-nil while refActive
	n     int64        // bytes produced in this message
	err   error        // sticky
}

// inflater is the pooled part of a Decompressor.
type refInflater struct {
	fr      io.ReadCloser // a compress/flate reader
	src     refSource
	buf     [4096]byte
	scratch [maxDistance]byte // for straightening the window
}

var refInflaterPool = sync.Pool{New: func() any {
	return &refInflater{fr: flate.NewReader(refEOFReader{})}
}}

type refEOFReader struct{}

func (refEOFReader) Read([]byte) (int, error) { return 0, io.EOF }

// NewDecompressor returns a Decompressor with the given options. It
// returns an error wrapping [ErrWindowBits] for a bad window.
func newRefDecompressor(o DecompressorOptions) (*refDecompressor, error) {
	w, err := windowBits(o.WindowBits)
	if err != nil {
		return nil, err
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("deflate: negative limit %d", o.Limit)
	}
	return &refDecompressor{window: w, takeover: !o.NoContextTakeover, limit: o.Limit}, nil
}

// Start begins a message whose compressed payload (without the 00 00 ff ff
// tail) src yields until io.EOF; src may span several frames. Read then
// returns the decompressed message. A message must be read to io.EOF before
// the next Start; one left unfinished drops the context takeover window, so
// a later message that refers to it fails.
func (d *refDecompressor) Start(src io.Reader) {
	d.start(nil, src)
}

// AppendMessage decompresses msg, one whole compressed payload, and appends
// the result to dst. It returns the extended dst and, on failure, an error
// as Read would.
func (d *refDecompressor) AppendMessage(dst, msg []byte) ([]byte, error) {
	d.start(msg, nil)
	for {
		if cap(dst)-len(dst) < 512 {
			dst = slices.Grow(dst, max(4096, len(dst)))
		}
		n, err := d.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// Read reads decompressed bytes of the current message. It returns io.EOF
// at the end of the message, [ErrTooLarge] once the limit would be passed
// (having returned at most the limit), and an error wrapping [ErrCorrupt]
// for bad input. An error from the payload reader is returned wrapped.
// After an error other than io.EOF, Read and later messages return the same
// error until Reset.
func (d *refDecompressor) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	switch d.state {
	case refIdle:
		return 0, errors.New("deflate: Read before Start")
	case refDone:
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if d.limit > 0 {
		// Ask for one byte past the limit, to see whether there is one.
		if room := d.limit - d.n; int64(len(p)) > room+1 {
			p = p[:room+1]
		}
	}
	n, err := d.inf.fr.Read(p)
	if d.limit > 0 && d.n+int64(n) > d.limit {
		n = int(d.limit - d.n)
		err = ErrTooLarge
	}
	d.n += int64(n)
	d.keep(p[:n])
	switch {
	case err == nil:
		return n, nil
	case err == ErrTooLarge:
		return n, d.fail(err)
	case d.inf.src.err != nil:
		return n, d.fail(fmt.Errorf("deflate: read payload: %w", d.inf.src.err))
	case err == io.ErrUnexpectedEOF && d.inf.src.ended():
		// The inflater wanted another block after the sync flush: the
		// normal end of a message.
		d.finish()
		return n, io.EOF
	case err == io.EOF:
		// The peer ended its DEFLATE stream with a final block.
		if err := d.checkEnd(); err != nil {
			return n, d.fail(err)
		}
		d.finish()
		return n, io.EOF
	case err == io.ErrUnexpectedEOF:
		return n, d.fail(fmt.Errorf("%w: message ends inside a block", ErrCorrupt))
	default:
		return n, d.fail(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
}

// SetLimit changes the limit on decompressed bytes per message (0 means
// none) for messages started after the call.
func (d *refDecompressor) SetLimit(n int64) {
	d.limit = max(n, 0)
}

// Reset drops the context takeover window, any message under way and any
// sticky error.
func (d *refDecompressor) Reset() {
	d.release()
	d.hist, d.histPos = d.hist[:0], 0
	d.state, d.err = refIdle, nil
}

func (d *refDecompressor) start(msg []byte, src io.Reader) {
	if d.err != nil {
		return
	}
	if d.state == refActive {
		d.release()
		d.hist, d.histPos = d.hist[:0], 0
	}
	inf := refInflaterPool.Get().(*refInflater)
	inf.src = refSource{b: msg, r: src, buf: inf.buf[:]}
	var dict []byte
	if d.takeover {
		dict = d.hist
	}
	// Reset of a compress/flate reader keeps its buffers; it fails only
	// for readers of other packages.
	if err := inf.fr.(flate.Resetter).Reset(&inf.src, dict); err != nil {
		panic(err)
	}
	d.inf, d.n, d.state = inf, 0, refActive
}

// checkEnd is called when the peer's data held a final block. RFC 7692,
// Section 7.2.3.4, allows one 00 byte after it (with the tail, an empty
// stored block); anything else after the final block is an error.
func (d *refDecompressor) checkEnd() error {
	s := &d.inf.src
	if s.tail == 0 {
		var rest [2]byte
		n := 0
		for ; n < len(rest) && (len(s.b) > 0 || s.more()); n++ {
			rest[n] = s.b[0]
			s.b = s.b[1:]
		}
		if s.err != nil {
			return fmt.Errorf("deflate: read payload: %w", s.err)
		}
		if n == 0 || n == 1 && rest[0] == 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: data after final block", ErrCorrupt)
}

// keep adds output to the context takeover window, a ring of the last
// window bytes.
func (d *refDecompressor) keep(q []byte) {
	if !d.takeover || len(q) == 0 {
		return
	}
	if d.hist == nil {
		d.hist = make([]byte, 0, d.window)
	}
	if len(q) >= d.window {
		d.hist = append(d.hist[:0], q[len(q)-d.window:]...)
		d.histPos = 0
		return
	}
	if room := d.window - len(d.hist); room > 0 {
		k := min(room, len(q))
		d.hist = append(d.hist, q[:k]...)
		q = q[k:]
	}
	for len(q) > 0 {
		k := copy(d.hist[d.histPos:], q)
		q = q[k:]
		d.histPos += k
		if d.histPos == len(d.hist) {
			d.histPos = 0
		}
	}
}

// finish ends a message that decompressed well.
func (d *refDecompressor) finish() {
	if d.histPos != 0 {
		// Rotate the ring so the oldest byte comes first.
		tmp := d.inf.scratch[:len(d.hist)]
		n := copy(tmp, d.hist[d.histPos:])
		copy(tmp[n:], d.hist[:d.histPos])
		copy(d.hist, tmp)
		d.histPos = 0
	}
	d.release()
	d.state = refDone
}

func (d *refDecompressor) fail(err error) error {
	d.err = err
	d.release()
	return err
}

func (d *refDecompressor) release() {
	if d.inf != nil {
		d.inf.src = refSource{}
		refInflaterPool.Put(d.inf)
		d.inf = nil
	}
}

// tail follows the payload, RFC 7692, Section 7.2.2.
var refTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// source gives the inflater the payload, then tail. It implements
// io.ByteReader, so the inflater reads no further than it needs, and it
// watches how the tail is read to tell where the message ends.
//
// A well-formed message ends with the three header bits of an empty stored
// block; the tail is its LEN and NLEN. compress/flate reads those with one
// 4-byte Read, then asks for the next block header with ReadByte and finds
// no more input. Any other way of reading the tail means the payload ended
// inside a block.
type refSource struct {
	b       []byte    // unread payload
	r       io.Reader // the rest of the payload, or nil
	buf     []byte    // for reads from r
	tail    int       // bytes of tail given out
	some    bool      // some payload was given out
	aligned bool      // the whole tail went out in one 4-byte Read
	atEnd   bool      // ReadByte found no more input: the message ended between blocks
	err     error     // an error from r other than io.EOF
}

// ended reports whether the inflater stopped exactly at the end of a
// well-formed message.
func (s *refSource) ended() bool {
	return s.err == nil && s.tail == len(refTail) && s.aligned && s.atEnd
}

// payloadDone is called once the payload is used up. An empty payload is
// strictly not DEFLATE data, but zlib-based peers read it as an empty
// message, and so does this package: its tail is skipped.
func (s *refSource) payloadDone() {
	if !s.some && s.tail == 0 {
		s.tail, s.aligned, s.some = len(refTail), true, true
	}
}

// more refills b from r and reports whether payload is left.
func (s *refSource) more() bool {
	for empty := 0; len(s.b) == 0 && s.r != nil && s.err == nil; {
		n, err := s.r.Read(s.buf)
		s.b = s.buf[:n]
		switch {
		case err == io.EOF:
			s.r = nil
		case err != nil:
			s.err = err
		case n == 0:
			if empty++; empty == 100 {
				s.err = io.ErrNoProgress
			}
		}
	}
	return len(s.b) > 0
}

func (s *refSource) ReadByte() (byte, error) {
	if len(s.b) == 0 && !s.more() {
		if s.err != nil {
			return 0, s.err
		}
		s.payloadDone()
		if s.tail == len(refTail) {
			s.atEnd = true
			return 0, io.EOF
		}
		s.tail++
		return refTail[s.tail-1], nil
	}
	s.some = true
	c := s.b[0]
	s.b = s.b[1:]
	return c, nil
}

func (s *refSource) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(s.b) == 0 && !s.more() {
		if s.err != nil {
			return 0, s.err
		}
		s.payloadDone()
		if s.tail == len(refTail) {
			s.atEnd = false
			return 0, io.EOF
		}
		if s.tail == 0 && len(p) == len(refTail) {
			s.aligned = true
		}
		n := copy(p, refTail[s.tail:])
		s.tail += n
		return n, nil
	}
	s.some = true
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}
