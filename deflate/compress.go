package deflate

import (
	"errors"
	"fmt"
)

// Level selects the speed and ratio trade-off of a [Compressor].
type Level int

// Levels run from [LevelFast] to [LevelBest]. Any value in between is valid.
const (
	// LevelFast finds matches greedily with a single hash probe per
	// position and skips ahead through data that does not compress.
	LevelFast Level = 1
	// LevelDefault uses hash chains and lazy matching, like zlib level 6.
	LevelDefault Level = 6
	// LevelBest searches long hash chains.
	LevelBest Level = 9
)

// levelConfig holds the matcher settings of one level. good, lazy, nice and
// chain mean what they mean in zlib: a match of good bytes cuts the chain
// search to a quarter, a match of lazy bytes is taken without trying the
// next position, a match of nice bytes ends the search, and at most chain
// candidates are compared. With context takeover a message of n bytes
// hashes the last max(histMin, histPer*n) bytes of history (all of it if
// histPer is zero), so short messages do not pay for hashing 32 KiB.
type levelConfig struct {
	fast                    bool
	good, lazy, nice, chain int
	histMin, histPer        int
}

var levels = [...]levelConfig{
	1: {fast: true, histMin: 1024, histPer: 4},
	2: {good: 4, lazy: 4, nice: 16, chain: 8, histMin: 1024, histPer: 4},
	3: {good: 4, lazy: 6, nice: 32, chain: 32, histMin: 2048, histPer: 8},
	4: {good: 4, lazy: 4, nice: 16, chain: 16, histMin: 2048, histPer: 8},
	5: {good: 8, lazy: 16, nice: 32, chain: 32, histMin: 2048, histPer: 8},
	6: {good: 8, lazy: 16, nice: 128, chain: 128, histMin: 2048, histPer: 8},
	7: {good: 8, lazy: 32, nice: 128, chain: 256, histMin: 4096, histPer: 16},
	8: {good: 32, lazy: 128, nice: 258, chain: 1024},
	9: {good: 32, lazy: 258, nice: 258, chain: 4096},
}

// CompressorOptions configures a [Compressor].
type CompressorOptions struct {
	// Level is the compression level; zero means [LevelDefault].
	Level Level
	// WindowBits is the base-two logarithm of the LZ77 window, 8 to 15;
	// zero means 15. The compressor never refers further back than
	// 1<<WindowBits bytes. Unlike zlib, which silently uses 9 when asked
	// for 8, a window of 8 bits is honoured as 256 bytes. This is the
	// peer's max_window_bits of RFC 7692, Section 7.1.2.
	WindowBits int
	// NoContextTakeover starts every message with an empty window, as
	// RFC 7692, Section 7.1.1, asks for server_no_context_takeover and
	// client_no_context_takeover.
	NoContextTakeover bool
}

// ErrWindowBits reports window bits outside 8 to 15.
var ErrWindowBits = errors.New("deflate: window bits not in 8..15")

// windowBits checks b and returns the window size it names.
func windowBits(b int) (int, error) {
	if b == 0 {
		b = 15
	}
	if b < 8 || b > 15 {
		return 0, fmt.Errorf("%w: %d", ErrWindowBits, b)
	}
	return 1 << b, nil
}

// Compressor compresses the messages of one direction of a WebSocket
// connection as RFC 7692 describes: each message becomes DEFLATE blocks with
// BFINAL unset, ended by a sync flush whose trailing 00 00 ff ff is removed
// (RFC 7692, Section 7.2.1). With context takeover, message k may refer to
// the last window bytes of messages 0..k-1, so it decodes with an inflater
// that has been fed those messages.
//
// Between messages a Compressor holds only the window (at most 32 KiB) and
// nothing at all without context takeover; the matcher's tables and buffers
// come from a [sync.Pool] while a message is under way.
//
// A Compressor is not safe for concurrent use.
type Compressor struct {
	cfg      *levelConfig
	window   int
	takeover bool
	hist     []byte // last window bytes of earlier messages, with takeover
	s        *state // non-nil while a message is under way
}

// NewCompressor returns a Compressor with the given options. It returns an
// error wrapping [ErrWindowBits] for a bad window, and one for a level
// outside 1 to 9.
func NewCompressor(o CompressorOptions) (*Compressor, error) {
	w, err := windowBits(o.WindowBits)
	if err != nil {
		return nil, err
	}
	if o.Level == 0 {
		o.Level = LevelDefault
	}
	if o.Level < LevelFast || o.Level > LevelBest {
		return nil, fmt.Errorf("deflate: level %d not in 1..9", o.Level)
	}
	return &Compressor{cfg: &levels[o.Level], window: w, takeover: !o.NoContextTakeover}, nil
}

// AppendMessage compresses msg as one whole message and appends the result
// to dst. It is AppendChunk followed by AppendEnd, and gives the same bytes
// however the message is cut into chunks.
func (c *Compressor) AppendMessage(dst, msg []byte) []byte {
	return c.AppendEnd(c.AppendChunk(dst, msg))
}

// AppendChunk compresses p as the next part of the current message, starting
// one if none is under way, and appends to dst whatever output is ready. The
// Compressor copies what it keeps of p. Output lags the input by up to
// about 64 KiB; the rest comes from AppendEnd.
func (c *Compressor) AppendChunk(dst, p []byte) []byte {
	s := c.start()
	s.out = dst
	s.write(p)
	dst, s.out = s.out, nil
	return dst
}

// AppendEnd ends the current message (an empty one if none is under way),
// appends the rest of its compressed form to dst and releases the matcher's
// buffers. The output ends in a byte-aligned empty stored block whose LEN and
// NLEN (00 00 ff ff) are left out, as RFC 7692, Section 7.2.1, says: "Remove
// 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end."
func (c *Compressor) AppendEnd(dst []byte) []byte {
	s := c.start()
	s.out = dst
	s.process(true)
	s.flushBlock()
	s.putBits(0, 3) // empty stored block: BFINAL 0, BTYPE 00
	s.alignByte()
	dst, s.out = s.out, nil
	c.finish()
	return dst
}

// Reset drops the window and any message under way, so the next message
// starts afresh, as after a DEFLATE stream reset.
func (c *Compressor) Reset() {
	if c.s != nil {
		c.s.release()
		c.s = nil
	}
	c.hist = c.hist[:0]
}

// start returns the state of the message under way, starting one if needed.
func (c *Compressor) start() *state {
	if c.s != nil {
		return c.s
	}
	s := statePool.Get().(*state)
	s.init(c.cfg, c.window, c.hist)
	c.s = s
	return s
}

// finish keeps the window for the next message and releases the state.
func (c *Compressor) finish() {
	s := c.s
	c.s = nil
	if c.takeover {
		keep := s.buf[max(0, s.end-c.window):s.end]
		c.hist = append(growWindow(c.hist[:0], len(keep), c.window), keep...)
	}
	s.release()
}

// growWindow returns b, with its contents, with room for need bytes: the
// capacity doubles, up to window, so a connection that has sent or received
// little holds a window of about that size, not a whole one from its first
// message (need is at most window).
func growWindow(b []byte, need, window int) []byte {
	if need <= cap(b) {
		return b
	}
	nb := make([]byte, len(b), min(window, max(need, 2*cap(b))))
	copy(nb, b)
	return nb
}
