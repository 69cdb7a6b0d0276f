package deflate

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// DecompressorOptions configures a [Decompressor].
type DecompressorOptions struct {
	// WindowBits is the peer's max_window_bits (RFC 7692, Section 7.1.2),
	// 8 to 15; zero means 15. With context takeover the Decompressor keeps
	// this much of the output between messages.
	WindowBits int
	// NoContextTakeover says the peer starts every message with an empty
	// window (RFC 7692, Section 7.1.1), so nothing is kept.
	NoContextTakeover bool
	// Limit caps the decompressed size of each message; zero means no cap.
	// A message that would exceed it fails with [ErrTooLarge].
	Limit int64
}

var (
	// ErrTooLarge reports a message that decompresses to more than the
	// limit. A WebSocket endpoint closes with 1009 (message too big).
	ErrTooLarge = errors.New("deflate: decompressed message over limit")
	// ErrCorrupt reports compressed data that is not valid DEFLATE, ends
	// early, or has data after a final block. The errors that wrap it say
	// which.
	ErrCorrupt = errors.New("deflate: corrupt data")
)

// readState is where a Decompressor is in its messages.
type readState uint8

const (
	readIdle   readState = iota // between messages
	readActive                  // a message is being decompressed
	readDone                    // the message ended; Read returns io.EOF
)

// Decompressor decompresses the messages of one direction of a WebSocket
// connection, RFC 7692, Section 7.2.2: "Append 4 octets of 0x00 0x00 0xff
// 0xff to the tail end of the payload of the message. Decompress the
// resulting data using DEFLATE."
//
// Decompression is done by this package's own RFC 1951 inflater. Between
// messages a Decompressor holds only the window of output it keeps for
// context takeover (at most 32 KiB, nothing without takeover); the
// inflater's tables and buffers come from a [sync.Pool] while a message is
// being read. [Decompressor.AppendMessage] inflates straight into dst;
// [Decompressor.Read] inflates into a pooled buffer holding the last
// 32 KiB of output.
//
// A message must end on a block boundary after the tail, as a sync flush
// leaves it, or with a final block (RFC 7692, Section 7.2.3.4); a payload
// that still carries its 00 00 ff ff, or stops inside a block, fails with
// [ErrCorrupt]. An empty payload reads as an empty message, as it does with
// zlib. The window is enforced between messages: a reference to output
// older than the window fails. Within a message any distance up to 32 KiB
// is accepted, as compress/flate and zlib accept it.
//
// A Decompressor is not safe for concurrent use.
type Decompressor struct {
	window   int
	takeover bool
	limit    int64

	hist []byte // the last window bytes of output, oldest first

	state readState
	inf   *inflater // non-nil while readActive
	err   error     // sticky
}

var inflaterPool = sync.Pool{New: func() any { return new(inflater) }}

// NewDecompressor returns a Decompressor with the given options. It
// returns an error wrapping [ErrWindowBits] for a bad window.
func NewDecompressor(o DecompressorOptions) (*Decompressor, error) {
	w, err := windowBits(o.WindowBits)
	if err != nil {
		return nil, err
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("deflate: negative limit %d", o.Limit)
	}
	return &Decompressor{window: w, takeover: !o.NoContextTakeover, limit: o.Limit}, nil
}

// Start begins a message whose compressed payload (without the 00 00 ff ff
// tail) src yields until io.EOF; src may span several frames. Read then
// returns the decompressed message. A message must be read to io.EOF before
// the next Start; one left unfinished drops the context takeover window, so
// a later message that refers to it fails.
func (d *Decompressor) Start(src io.Reader) {
	if d.start(nil, src) {
		f := d.inf
		f.out, f.lo, f.wpos, f.rpos = f.win[:], 0, 0, 0
	}
}

// AppendMessage decompresses msg, one whole compressed payload, and appends
// the result to dst. It returns the extended dst and, on failure, an error
// as Read would.
func (d *Decompressor) AppendMessage(dst, msg []byte) ([]byte, error) {
	if !d.start(msg, nil) {
		return dst, d.err
	}
	f := d.inf
	lo := len(dst)
	// Guess the output at four times the input at first.
	want := max(4096, 4*len(msg))
	for {
		if d.limit > 0 {
			// Room for one byte past the limit, to see whether there is one.
			want = int(min(int64(want), d.limit+1-f.n))
		}
		if cap(dst)-len(dst) < want {
			dst = slices.Grow(dst, want)
		}
		f.out, f.lo, f.wpos = dst[:cap(dst)], lo, len(dst)
		f.end = cap(dst)
		if d.limit > 0 {
			f.end = min(f.end, f.wpos+int(d.limit+1-f.n))
		}
		err := f.decode()
		f.n += int64(f.wpos - len(dst))
		dst = dst[:f.wpos]
		f.out = nil
		if d.limit > 0 && f.n > d.limit {
			return dst[:lo+int(d.limit)], d.fail(ErrTooLarge)
		}
		if err != nil {
			return dst, d.fail(err)
		}
		if f.st == inEnd {
			d.keep(dst[lo:])
			d.finish()
			return dst, nil
		}
		want = max(4096, len(dst)-lo)
	}
}

// Read reads decompressed bytes of the current message. It returns io.EOF
// at the end of the message, [ErrTooLarge] once the limit would be passed
// (having returned at most the limit), and an error wrapping [ErrCorrupt]
// for bad input. An error from the payload reader is returned wrapped.
// After an error other than io.EOF, Read and later messages return the same
// error until Reset.
func (d *Decompressor) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	switch d.state {
	case readIdle:
		return 0, errors.New("deflate: Read before Start")
	case readDone:
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	f := d.inf
	if f.rpos == f.wpos {
		if f.err != nil {
			return 0, d.fail(f.err)
		}
		if f.st == inEnd {
			d.finish()
			return 0, io.EOF
		}
		if f.wpos == len(f.win) {
			// Keep the 32 KiB a match may reach back to. The message has
			// made more than that, so no match reaches into hist.
			copy(f.win[:], f.win[f.wpos-maxDistance:f.wpos])
			f.wpos, f.rpos = maxDistance, maxDistance
		}
		f.end = len(f.win)
		if d.limit > 0 {
			f.end = int(min(int64(f.end), int64(f.wpos)+d.limit+1-f.n))
		}
		start := f.wpos
		f.err = f.decode()
		f.n += int64(f.wpos - start)
		if f.st == inEnd && f.err == nil {
			d.keepWindow()
		}
	}
	n := copy(p, f.win[f.rpos:f.wpos])
	f.rpos += n
	if d.limit > 0 && f.n > d.limit && f.n-int64(f.wpos-f.rpos) > d.limit {
		// This Read reaches past the limit: return up to it.
		n -= int(f.n - int64(f.wpos-f.rpos) - d.limit)
		return n, d.fail(ErrTooLarge)
	}
	if n == 0 {
		// decode made nothing: an error, or the end of the message.
		return d.Read(p)
	}
	return n, nil
}

// SetLimit changes the limit on decompressed bytes per message (0 means
// none) for messages started after the call.
func (d *Decompressor) SetLimit(n int64) {
	d.limit = max(n, 0)
}

// Reset drops the context takeover window, any message under way and any
// sticky error.
func (d *Decompressor) Reset() {
	d.release()
	d.hist = d.hist[:0]
	d.state, d.err = readIdle, nil
}

// start arms a pooled inflater for a message and reports whether it did
// (not after an error).
func (d *Decompressor) start(msg []byte, src io.Reader) bool {
	if d.err != nil {
		return false
	}
	if d.state == readActive {
		d.release()
		d.hist = d.hist[:0]
	}
	f := inflaterPool.Get().(*inflater)
	var hist []byte
	if d.takeover {
		hist = d.hist
	}
	f.reset(msg, src, hist)
	d.inf, d.state = f, readActive
	return true
}

// keepWindow keeps the end of a message read through Read, from the
// inflater's buffer.
func (d *Decompressor) keepWindow() {
	f := d.inf
	if f.n <= int64(f.wpos) {
		d.keep(f.win[f.wpos-int(f.n) : f.wpos])
	} else {
		d.keep(f.win[f.wpos-maxDistance : f.wpos])
	}
}

// keep adds a message's output q to the context takeover window, the last
// window bytes of output.
func (d *Decompressor) keep(q []byte) {
	if !d.takeover || len(q) == 0 {
		return
	}
	d.hist = growWindow(d.hist, min(d.window, len(d.hist)+len(q)), d.window)
	if len(q) >= d.window {
		d.hist = append(d.hist[:0], q[len(q)-d.window:]...)
		return
	}
	if drop := len(d.hist) + len(q) - d.window; drop > 0 {
		n := copy(d.hist, d.hist[drop:])
		d.hist = d.hist[:n]
	}
	d.hist = append(d.hist, q...)
}

// finish ends a message that decompressed well.
func (d *Decompressor) finish() {
	d.release()
	d.state = readDone
}

func (d *Decompressor) fail(err error) error {
	d.err = err
	d.release()
	return err
}

func (d *Decompressor) release() {
	if d.inf != nil {
		d.inf.reset(nil, nil, nil)
		inflaterPool.Put(d.inf)
		d.inf = nil
	}
}

// tail follows the payload, RFC 7692, Section 7.2.2.
var tail = [4]byte{0x00, 0x00, 0xff, 0xff}
