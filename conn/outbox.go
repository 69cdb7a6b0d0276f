//go:build !js

package conn

import "github.com/wirelevel/ws/frame"

// outbox is a Conn's outgoing buffer: the frames of queued messages (and a
// failure's close frame) that the socket has not taken yet, in order. It is
// guarded by Conn.outMu; Conn.outN counts its bytes, those a writer has
// taken but not written yet, and the held messages.
//
// Frames are copied into pooled buffers, one after another, except a
// prepared message's frame over copyMax, which is kept by reference: a
// broadcast's frame is shared by every connection it waits on.
type outbox struct {
	segs []outSeg // waiting bytes, in order
	n    int      // bytes in segs

	cur      *[]byte // the pooled buffer frames are copied into, or nil
	curN     int     // bytes of cur in use
	curSeg   int     // index in segs of the segment that owns cur
	curStart int     // where in cur that segment starts

	// held are data messages queued while another message was being
	// written (msgMu was busy): they follow that message (see unlockMsg).
	held []heldMsg

	kick       bool // a writer must write segs, without waiting, before it lets go of writeMu
	bg         bool // a background flusher is running (flushBackground)
	closeAfter bool // the last frame is a failure's close frame: close TCP once segs are out
}

// copyMax is the largest prepared frame the outgoing buffer copies instead
// of keeping a reference to it.
const copyMax = 1 << 10

// outSeg is a run of waiting bytes: part of a pooled buffer, or a prepared
// message's frame.
type outSeg struct {
	b   []byte
	buf *[]byte // on the last segment in a pooled buffer: give it back once b is written
}

// heldMsg is a data message queued while msgMu was busy.
type heldMsg struct {
	typ  MessageType
	data *[]byte // a pooled copy of the payload, of which n bytes count
	n    int
	pm   *PreparedMessage // or a prepared message
}

// room extends the outgoing buffer by n bytes and returns them to be
// filled: at the end of cur if it has room, otherwise at the start of a new
// pooled buffer of at least size bytes.
func (o *outbox) room(n, size int) []byte {
	o.n += n
	if o.cur != nil && len(*o.cur)-o.curN >= n {
		b := (*o.cur)[o.curN : o.curN+n]
		if last := len(o.segs) - 1; o.curSeg == last {
			o.segs[last].b = (*o.cur)[o.curStart : o.curN+n]
		} else {
			// Something else came between: a new segment in the same
			// buffer, which now owns it.
			o.segs[o.curSeg].buf = nil
			o.segs = append(o.segs, outSeg{b: b, buf: o.cur})
			o.curSeg, o.curStart = len(o.segs)-1, o.curN
		}
		o.curN += n
		return b
	}
	o.cur = getBuf(max(n, size))
	b := (*o.cur)[:n]
	o.segs = append(o.segs, outSeg{b: b, buf: o.cur})
	o.curSeg, o.curStart, o.curN = len(o.segs)-1, 0, n
	return b
}

// appendFrame copies a frame with header h and payload p in, masking the
// payload if h says so.
func (o *outbox) appendFrame(h frame.Header, p []byte, size int) {
	hl := h.Size()
	b := o.room(hl+len(p), size)
	frame.PutHeader(b, h)
	copy(b[hl:], p)
	if h.Masked {
		frame.Mask(h.Mask, 0, b[hl:])
	}
}

// appendPrepared adds a prepared frame: a copy if it is small, otherwise a
// reference.
func (o *outbox) appendPrepared(b []byte, size int) {
	if len(b) <= copyMax {
		copy(o.room(len(b), size), b)
		return
	}
	o.segs = append(o.segs, outSeg{b: b})
	o.n += len(b)
}

// take moves every waiting segment out, for a writer, leaving dst's array
// (emptied) in their place. New frames then go into a new buffer, since
// the writer gives back the buffers it takes.
func (o *outbox) take(dst []outSeg) []outSeg {
	segs := o.segs
	o.segs = dst[:0]
	o.n = 0
	o.cur, o.curN = nil, 0
	return segs
}

// putFront puts segments a writer could not write back in front of what was
// added meanwhile, followed by extra, a buffer that takes their place.
func (o *outbox) putFront(left []outSeg, extra outSeg) {
	k := len(left)
	if extra.b != nil {
		k++
	}
	segs := make([]outSeg, 0, k+len(o.segs))
	segs = append(segs, left...)
	if extra.b != nil {
		segs = append(segs, extra)
	}
	segs = append(segs, o.segs...)
	for _, s := range segs[:k] {
		o.n += len(s.b)
	}
	o.segs = segs
	if o.cur != nil {
		o.curSeg += k
	}
}

// discard gives back every buffer, of segments and held messages.
func (o *outbox) discard() {
	for _, s := range o.segs {
		if s.buf != nil {
			putBuf(s.buf)
		}
	}
	for _, h := range o.held {
		if h.data != nil {
			putBuf(h.data)
		}
	}
	clear(o.segs)
	clear(o.held)
	o.segs, o.held, o.n = o.segs[:0], o.held[:0], 0
	o.cur, o.curN = nil, 0
}
