package autobahn

import (
	"encoding/hex"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/wirelevel/ws/frame"
)

// WireFrame is one frame in a case's wire log.
type WireFrame struct {
	MS      float64 `json:"ms"`  // milliseconds since the connection opened
	Dir     string  `json:"dir"` // "tx" (fuzzer to testee) or "rx"
	Opcode  int     `json:"opcode"`
	Fin     bool    `json:"fin"`
	Rsv     int     `json:"rsv"`
	Masked  bool    `json:"masked"`
	Length  int64   `json:"length"`
	Payload string  `json:"payload"` // hex of the first payloadPreview bytes (unmasked)
	Note    string  `json:"note,omitempty"`
}

// payloadPreview is how many payload bytes the wire log keeps per frame.
const payloadPreview = 32

// wireLog records the frames of one connection, up to a limit per
// direction, and counts all of them. Reader and writer both add to it.
type wireLog struct {
	start time.Time
	limit int

	mu      sync.Mutex
	frames  []WireFrame
	kept    [2]int
	omitted [2]int
	count   [2][16]int // frames per opcode
	octets  [2]int64
}

const (
	dirTx = 0
	dirRx = 1
)

func newWireLog(start time.Time, limit int) *wireLog {
	return &wireLog{start: start, limit: limit}
}

func (l *wireLog) add(dir int, h frame.Header, payload []byte, note string) {
	l.entry(dir, h, payload, note, true)
}

// addChunk logs part of a frame's payload written on its own (6.4.3): an
// entry that is not counted as a frame.
func (l *wireLog) addChunk(dir int, h frame.Header, payload []byte, note string) {
	l.entry(dir, h, payload, note, false)
}

func (l *wireLog) entry(dir int, h frame.Header, payload []byte, note string, isFrame bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isFrame {
		l.count[dir][h.Opcode&0xF]++
	}
	if l.kept[dir] >= l.limit {
		l.omitted[dir]++
		return
	}
	l.kept[dir]++
	p := payload
	if len(p) > payloadPreview {
		p = p[:payloadPreview]
	}
	d := "tx"
	if dir == dirRx {
		d = "rx"
	}
	l.frames = append(l.frames, WireFrame{
		MS:      float64(time.Since(l.start).Microseconds()) / 1000,
		Dir:     d,
		Opcode:  int(h.Opcode),
		Fin:     h.Fin,
		Rsv:     int(h.Rsv),
		Masked:  h.Masked,
		Length:  h.Length,
		Payload: hex.EncodeToString(p),
		Note:    note,
	})
}

func (l *wireLog) addOctets(dir int, n int64) {
	l.mu.Lock()
	l.octets[dir] += n
	l.mu.Unlock()
}

// WireStats counts the traffic of one case.
type WireStats struct {
	TxOctets       int64          `json:"txOctets"`
	RxOctets       int64          `json:"rxOctets"`
	TxFrames       map[string]int `json:"txFrameStats"` // opcode (decimal) to count
	RxFrames       map[string]int `json:"rxFrameStats"`
	TxFramesLogged int            `json:"txFramesLogged"`
	RxFramesLogged int            `json:"rxFramesLogged"`
	TxOmitted      int            `json:"txFramesOmitted"`
	RxOmitted      int            `json:"rxFramesOmitted"`
}

func (l *wireLog) snapshot() ([]WireFrame, WireStats) {
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
	return append([]WireFrame(nil), l.frames...), WireStats{
		TxOctets: l.octets[dirTx], RxOctets: l.octets[dirRx],
		TxFrames: counts(l.count[dirTx]), RxFrames: counts(l.count[dirRx]),
		TxFramesLogged: l.kept[dirTx], RxFramesLogged: l.kept[dirRx],
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
		var n int64
		for _, b := range batch {
			n += int64(len(b))
		}
		_, err := batch.WriteTo(w.nc)
		w.log.addOctets(dirTx, n)
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
				if _, err := w.nc.Write(b[:n]); err != nil {
					return err
				}
				w.log.addOctets(dirTx, int64(n))
				b = b[n:]
				pauseFor(w.pause)
			}
		case it.sync:
			if err := flush(); err != nil {
				return err
			}
			if _, err := w.nc.Write(it.b); err != nil {
				return err
			}
			w.log.addOctets(dirTx, int64(len(it.b)))
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
