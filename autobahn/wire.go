package autobahn

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wirelevel/ws/frame"
)

// Wire log entry kinds, the values of [WireEntry.Kind]. They are the
// suite's: octets and frames in each direction, and the timer events of a
// case.
const (
	WireTxOctets = "TO"  // octets written to the connection
	WireRxOctets = "RO"  // octets read from the connection
	WireTxFrame  = "TF"  // a frame the fuzzer sent
	WireRxFrame  = "RF"  // a frame the fuzzer received
	WireKill     = "KL"  // a kill timer was set (Seconds)
	WireKillFire = "KLE" // it fired: the fuzzer fails the connection
	WireTimer    = "TI"  // a close timer (time limit) was set (Seconds)
	WireTimeFire = "TIE" // it fired: the fuzzer closes
	WirePause    = "CT"  // a pause began (Seconds, Tag)
	WirePauseEnd = "CTE" // it ended (Tag)
)

// WireEntry is one entry of a case's wire log: octets written or read,
// a frame sent or received, or a timer event. Its JSON form is the suite's
// tuple, such as ["RO", [257, "4745..."]] or ["TF", [2, "0x03e8"], 8, true,
// 0, null, null, null, false] (see [WireEntry.MarshalJSON]).
type WireEntry struct {
	Kind string  // one of the Wire... constants
	MS   float64 // milliseconds since the connection opened

	// Octets and frames.
	Length int64  // octets written or read; a frame's payload length
	Data   []byte // their first bytes; a frame's first payload bytes, unmasked
	Sync   bool   // written on their own, followed by a pause (TO, TF)

	// Frames.
	Opcode int
	Fin    bool
	Rsv    int
	Masked bool
	Mask   [4]byte
	Chop   int    // TF: written in pieces of Chop bytes; 0 if not
	Note   string // what the harness did with it, if anything unusual

	// Timers.
	Seconds float64
	Tag     string
}

// wireDataPreview is how many bytes of octets or of a payload an entry
// keeps, as the suite's wire log does.
const wireDataPreview = 64

// hexLog shows octets as the suite's wire log does: hex, the first 64 bytes
// followed by " ..." if there are more than 60.
func hexLog(b []byte, n int64) string {
	if n > wireDataPreview-4 {
		return hex.EncodeToString(b[:min(len(b), wireDataPreview)]) + " ..."
	}
	return hex.EncodeToString(b)
}

// textLog shows a payload as the suite's wire log does: as text if its
// first bytes are valid UTF-8 (with " ..." after the first 64 bytes of a
// longer one), else "0x" and hex.
func textLog(b []byte, n int64) string {
	s := b
	more := n > wireDataPreview-4
	if more {
		s = b[:min(len(b), wireDataPreview)]
	}
	if !utf8.Valid(s) {
		return "0x" + hexLog(b, n)
	}
	if more {
		return string(s) + " ..."
	}
	return string(s)
}

// MarshalJSON encodes e as the suite's wire log tuple:
//
//	["RO", [length, hex]]
//	["TO", [length, hex], sync]
//	["RF", [length, text], opcode, fin, rsv, masked, mask]
//	["TF", [length, text], opcode, fin, rsv, mask, null, chop, sync]
//	["KL", seconds] ["KLE"] ["TI", seconds] ["TIE"] ["CT", seconds, tag] ["CTE", tag]
//
// where mask is the masking key in hex or null and chop null if the frame
// was not chopped. The fuzzer never repeats a pattern to build a payload,
// so TF's repeat length is always null.
func (e WireEntry) MarshalJSON() ([]byte, error) {
	mask := func() any {
		if !e.Masked {
			return nil
		}
		return hex.EncodeToString(e.Mask[:])
	}
	var v []any
	switch e.Kind {
	case WireRxOctets:
		v = []any{e.Kind, []any{e.Length, hexLog(e.Data, e.Length)}}
	case WireTxOctets:
		v = []any{e.Kind, []any{e.Length, hexLog(e.Data, e.Length)}, e.Sync}
	case WireRxFrame:
		v = []any{e.Kind, []any{e.Length, textLog(e.Data, e.Length)}, e.Opcode, e.Fin, e.Rsv, e.Masked, mask()}
	case WireTxFrame:
		var chop any
		if e.Chop > 0 {
			chop = e.Chop
		}
		v = []any{e.Kind, []any{e.Length, textLog(e.Data, e.Length)}, e.Opcode, e.Fin, e.Rsv, mask(), nil, chop, e.Sync}
	case WireKill, WireTimer:
		v = []any{e.Kind, e.Seconds}
	case WirePause:
		v = []any{e.Kind, e.Seconds, e.Tag}
	case WirePauseEnd:
		v = []any{e.Kind, e.Tag}
	default:
		v = []any{e.Kind}
	}
	return marshalJSON(v)
}

// marshalJSON is json.Marshal without the escaping of <, > and &, as the
// suite writes its JSON.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// wireLog records the traffic of one connection: entries up to a limit per
// direction (timer events count as sent), and statistics of everything.
// Reader and writer both add to it.
type wireLog struct {
	start time.Time
	limit int

	mu      sync.Mutex
	entries []WireEntry
	kept    [2]int
	omitted [2]int
	frames  [2][16]int       // frames per opcode
	octets  [2]int64         // total octets
	preopen [2]int64         // octets of the opening handshake
	chunks  [2]map[int64]int // reads and writes by size
}

const (
	dirTx = 0
	dirRx = 1
)

func newWireLog(start time.Time, limit int) *wireLog {
	return &wireLog{start: start, limit: limit, chunks: [2]map[int64]int{{}, {}}}
}

// keep reports whether another entry of dir fits in the log, and counts
// it if not. l.mu is held.
func (l *wireLog) keepLocked(dir int) bool {
	if l.kept[dir] >= l.limit {
		l.omitted[dir]++
		return false
	}
	l.kept[dir]++
	return true
}

func (l *wireLog) ms() float64 { return float64(time.Since(l.start).Microseconds()) / 1000 }

// add logs a frame sent or received: its header, the first bytes of its
// payload (unmasked), the chop size of a chopped write and whether it was
// written on its own.
func (l *wireLog) add(dir int, h frame.Header, payload []byte, chop int, sync bool, note string) {
	l.entry(dir, h, payload, chop, sync, note, true)
}

// addChunk logs part of a frame's payload written on its own (6.4.3): an
// entry that is not counted as a frame.
func (l *wireLog) addChunk(dir int, h frame.Header, payload []byte, note string) {
	l.entry(dir, h, payload, 0, false, note, false)
}

func (l *wireLog) entry(dir int, h frame.Header, payload []byte, chop int, sync bool, note string, isFrame bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isFrame {
		l.frames[dir][h.Opcode&0xF]++
	}
	if !l.keepLocked(dir) {
		return
	}
	kind := WireTxFrame
	if dir == dirRx {
		kind = WireRxFrame
	}
	l.entries = append(l.entries, WireEntry{
		Kind: kind, MS: l.ms(),
		Length: h.Length, Data: clone(payload[:min(len(payload), wireDataPreview)]),
		Opcode: int(h.Opcode), Fin: h.Fin, Rsv: int(h.Rsv), Masked: h.Masked, Mask: h.Mask,
		Chop: chop, Sync: sync, Note: note,
	})
}

// addOctets logs the octets of one write or read (the chunks of a batch
// of writes as one).
func (l *wireLog) addOctets(dir int, chunks [][]byte, sync bool) {
	var n int64
	var preview []byte
	for _, b := range chunks {
		n += int64(len(b))
		if len(preview) < wireDataPreview {
			preview = append(preview, b[:min(len(b), wireDataPreview-len(preview))]...)
		}
	}
	if n == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.octets[dir] += n
	if len(l.chunks[dir]) < 1<<16 || l.chunks[dir][n] > 0 {
		l.chunks[dir][n]++
	}
	if !l.keepLocked(dir) {
		return
	}
	kind := WireTxOctets
	if dir == dirRx {
		kind = WireRxOctets
	}
	l.entries = append(l.entries, WireEntry{Kind: kind, MS: l.ms(), Length: n, Data: preview, Sync: sync})
}

// resetStats starts the octet totals afresh: the opening handshake's are
// kept apart (the suite's preopen counts), and only the traffic after it
// is counted. The statistics by chunk size, as the suite's, keep the
// handshake's reads and writes.
func (l *wireLog) resetStats() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.preopen = l.octets
	l.octets = [2]int64{}
}

// timer logs a timer event.
func (l *wireLog) timer(kind string, seconds float64, tag string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keepLocked(dirTx) {
		l.entries = append(l.entries, WireEntry{Kind: kind, MS: l.ms(), Seconds: seconds, Tag: tag})
	}
}

// octetLogger logs every read from a connection, and holds the reads
// while its gate (if any) is paused.
type octetLogger struct {
	r    io.Reader
	log  *wireLog
	gate *readGate
}

func (o octetLogger) Read(p []byte) (int, error) {
	if o.gate != nil {
		o.gate.wait()
	}
	n, err := o.r.Read(p)
	if n > 0 {
		o.log.addOctets(dirRx, [][]byte{p[:n]}, false)
	}
	return n, err
}

// readGate lets the runner stop reading a connection (16.5): the reader
// blocks until it resumes.
type readGate struct {
	mu     sync.Mutex
	paused bool
	wake   chan struct{}
}

func (g *readGate) wait() {
	for {
		g.mu.Lock()
		if !g.paused {
			g.mu.Unlock()
			return
		}
		ch := g.wake
		g.mu.Unlock()
		<-ch
	}
}

func (g *readGate) pause() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.paused {
		g.paused, g.wake = true, make(chan struct{})
	}
}

func (g *readGate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.paused {
		g.paused = false
		close(g.wake)
	}
}

// WireStats counts the traffic of one case, after the opening handshake.
type WireStats struct {
	TxOctets      int64
	RxOctets      int64
	TxFrames      map[string]int // opcode (decimal) to count
	RxFrames      map[string]int
	TxOctetChunks map[string]int // write size (decimal) to count
	RxOctetChunks map[string]int // read size to count
	TxEntries     int            // entries kept in the wire log
	RxEntries     int
	TxOmitted     int // entries left out of the wire log
	RxOmitted     int
}

// preopenOctets returns the octets of the opening handshake, written and
// read.
func (l *wireLog) preopenOctets() [2]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.preopen
}

func (l *wireLog) snapshot() ([]WireEntry, WireStats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := func(c [16]int) map[string]int {
		m := make(map[string]int)
		for op, n := range c {
			if n > 0 {
				m[strconv.Itoa(op)] = n
			}
		}
		return m
	}
	sizes := func(c map[int64]int) map[string]int {
		m := make(map[string]int, len(c))
		for size, n := range c {
			m[strconv.FormatInt(size, 10)] = n
		}
		return m
	}
	return slices.Clone(l.entries), WireStats{
		TxOctets: l.octets[dirTx], RxOctets: l.octets[dirRx],
		TxFrames: counts(l.frames[dirTx]), RxFrames: counts(l.frames[dirRx]),
		TxOctetChunks: sizes(l.chunks[dirTx]), RxOctetChunks: sizes(l.chunks[dirRx]),
		TxEntries: l.kept[dirTx], RxEntries: l.kept[dirRx],
		TxOmitted: l.omitted[dirTx], RxOmitted: l.omitted[dirRx],
	}
}

// writeItem is one queued write. A chopped item is written in pieces of
// chop bytes; a chopped or sync item is followed by a short pause, so the
// testee's reads see the pieces separately (TCP_NODELAY is on).
type writeItem struct {
	b         []byte
	chop      int
	sync      bool
	closeConn bool // after the items before it: close the connection
}

// wireWriter owns the writing side of a connection. The case runner queues
// bytes without blocking, so a testee that stops reading cannot stall the
// runner's timers; the queue keeps the order of everything queued.
type wireWriter struct {
	nc    net.Conn
	log   *wireLog
	pause time.Duration

	written  atomic.Int64 // bytes the connection took
	enqueued atomic.Int64 // bytes queued, in all

	mu     sync.Mutex
	q      []writeItem
	closed bool
	failed bool // a write failed: later closeConn items close at once
	wake   chan struct{}
	done   chan struct{}
}

func newWireWriter(nc net.Conn, log *wireLog, pause time.Duration) *wireWriter {
	w := &wireWriter{nc: nc, log: log, pause: pause, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *wireWriter) enqueue(it writeItem) {
	w.enqueued.Add(int64(len(it.b)))
	w.mu.Lock()
	failed := w.failed
	if !w.closed {
		w.q = append(w.q, it)
	}
	w.mu.Unlock()
	if failed && it.closeConn {
		w.nc.Close()
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// stop ends the writer once the queue is empty or a write fails, and waits
// for it. Close the connection first to make pending writes fail fast.
func (w *wireWriter) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
}

func (w *wireWriter) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		q, closed := w.q, w.closed
		w.q = nil
		w.mu.Unlock()
		if len(q) == 0 {
			if closed {
				return
			}
			<-w.wake
			continue
		}
		if err := w.write(q); err != nil {
			// The testee takes no more bytes (it reset the connection or
			// ended the stream, or a drop's write deadline passed). Stop
			// writing but leave the reading side alone: what the testee
			// sent before is still to be read. Closing here would throw
			// it away, as it does over HTTP/2 when a server that has
			// failed the connection ends the stream with RST_STREAM
			// (NO_ERROR) while we are still sending (RFC 9113, Section
			// 8.1): the close frame it sent would be lost. The reader
			// sees the end of the connection itself; a close that was or
			// will be asked for happens at once.
			w.mu.Lock()
			w.closed, w.failed, w.q = true, true, nil
			w.mu.Unlock()
			for _, it := range q {
				if it.closeConn {
					w.nc.Close()
				}
			}
			return
		}
	}
}

func (w *wireWriter) write(q []writeItem) error {
	var batch net.Buffers
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		w.log.addOctets(dirTx, batch, false)
		n, err := batch.WriteTo(w.nc)
		w.written.Add(n)
		batch = nil
		return err
	}
	for _, it := range q {
		switch {
		case it.closeConn:
			if err := flush(); err != nil {
				return err
			}
			w.nc.Close()
		case it.chop > 0:
			if err := flush(); err != nil {
				return err
			}
			for b := it.b; len(b) > 0; {
				n := min(it.chop, len(b))
				w.log.addOctets(dirTx, [][]byte{b[:n]}, true)
				m, err := w.nc.Write(b[:n])
				w.written.Add(int64(m))
				if err != nil {
					return err
				}
				b = b[n:]
				pauseFor(w.pause)
			}
		case it.sync:
			if err := flush(); err != nil {
				return err
			}
			w.log.addOctets(dirTx, [][]byte{it.b}, true)
			m, err := w.nc.Write(it.b)
			w.written.Add(int64(m))
			if err != nil {
				return err
			}
			pauseFor(w.pause)
		default:
			batch = append(batch, it.b)
		}
	}
	return flush()
}

// pauseFor waits about d between the pieces of a chopped write. time.Sleep
// rounds short sleeps up to the poller's millisecond, which would make the
// 64-byte pieces of 9.5.1 take a minute, so short pauses spin, yielding to
// other goroutines.
func pauseFor(d time.Duration) {
	if d >= time.Millisecond {
		time.Sleep(d)
		return
	}
	for start := time.Now(); time.Since(start) < d; {
		runtime.Gosched()
	}
}

// maskKey returns a fresh masking key. RFC 6455, Section 5.3: "The masking
// key is a 32-bit value chosen at random by the client."
func maskKey() (k [4]byte) {
	v := rand.Uint32()
	k[0], k[1], k[2], k[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return k
}

// fragment cuts a message payload of n bytes into frames of size s the way
// the suite's sender does (CASES.md, Section A.4): pieces of s bytes; when n
// is an exact multiple of s an extra empty final frame follows; n <= s (or
// s <= 0) gives one frame. It returns the frame boundaries: frame i carries
// payload[bounds[i]:bounds[i+1]].
func fragment(n, s int) []int {
	if s <= 0 || n <= s {
		return []int{0, n}
	}
	bounds := []int{0}
	for i := 0; i < n; {
		i = min(i+s, n)
		bounds = append(bounds, i)
	}
	if n%s == 0 {
		bounds = append(bounds, n)
	}
	return bounds
}
