package autobahn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/wirelevel/ws/frame"
)

// rdKind is the kind of an rdEvent.
type rdKind uint8

const (
	rdMessage rdKind = iota // a complete text or binary message
	rdPing
	rdPong
	rdClose    // a valid close frame
	rdBadClose // a close frame with a status code that is invalid, or with an invalid reason
	rdFail     // the testee broke the protocol: fail the connection
	rdGone     // the TCP connection is gone; the last event
)

// rdEvent is what the reader goroutine reports to the case runner.
type rdEvent struct {
	kind    rdKind
	binary  bool
	payload []byte
	wireLen int // message: payload bytes on the wire (compressed size)

	code     int // close, bad close: status code (0 if none); fail: the code to send
	reason   []byte
	failMsg  string // fail, bad close: what was wrong
	failCode int    // bad close: the code to send
	err      error  // gone: the read error
}

// msgState is the reader's message reassembly state.
type msgState uint8

const (
	msgIdle msgState = iota
	msgText
	msgBinary
)

// frameReader reads the testee's frames as a strict endpoint (CASES.md,
// Section A.5) and reports messages, pings, pongs, close frames and
// violations to the runner. After a violation it only looks for a close
// frame; after a close frame, valid or not, it discards everything until
// TCP is gone.
type frameReader struct {
	br       *bufio.Reader
	from     frame.Role // the testee's role
	allowRSV byte       // frame.RSV1 when permessage-deflate is in use
	inflate  *inflater  // nil without permessage-deflate
	maxMsg   int64
	maxFrame int64 // > 0: a data frame's payload limit (spec: maxFramePayloadSize)
	log      *wireLog
	out      chan<- rdEvent

	noUTF8       bool // do not check text (spec: utf8validateIncoming false)
	noUnmask     bool // take masked payloads as they are (spec: applyMask false)
	wrongMasking bool // accept frames masked the wrong way (spec options)

	state      msgState
	compressed bool
	msg        []byte
	utf8       frame.UTF8Validator
	failed     bool
	closed     bool
}

func (fr *frameReader) run() {
	var hb [frame.MaxHeaderSize]byte
	var ctl [frame.MaxControlPayload]byte
	for {
		h, err := frame.ReadHeader(fr.br, &hb)
		if err != nil {
			var pe *frame.ProtocolError
			if errors.As(err, &pe) {
				// Non-minimal length or length MSB: framing is lost.
				fr.fail(int(pe.Code), pe.Reason)
				fr.drain()
				return
			}
			fr.gone(err)
			return
		}
		if h.Length > fr.maxMsg {
			fr.log.add(dirRx, h, nil, 0, false, "payload not read")
			fr.fail(int(frame.CloseTooBig), "frame longer than the message size limit")
			fr.drain()
			return
		}
		if fr.maxFrame > 0 && h.Length > fr.maxFrame && !h.Opcode.IsControl() && !fr.skipping() {
			fr.log.add(dirRx, h, nil, 0, false, "payload not read")
			fr.fail(int(frame.ClosePolicyViolation), fmt.Sprintf("frame exceeds payload limit of %d octets", fr.maxFrame))
			fr.drain()
			return
		}
		var payload []byte
		switch {
		case fr.skipping() || h.Opcode.IsControl():
			if h.Length <= int64(len(ctl)) {
				payload = ctl[:h.Length]
			} else {
				payload = make([]byte, h.Length)
			}
		default:
			if int64(len(fr.msg))+h.Length > fr.maxMsg {
				fr.log.add(dirRx, h, nil, 0, false, "payload not read")
				fr.fail(int(frame.CloseTooBig), "message longer than the size limit")
				fr.drain()
				return
			}
			// Read data straight into the message buffer.
			start := len(fr.msg)
			fr.msg = slices.Grow(fr.msg, int(h.Length))[:start+int(h.Length)]
			payload = fr.msg[start:]
		}
		if _, err := io.ReadFull(fr.br, payload); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			fr.gone(err)
			return
		}
		if h.Masked && !fr.noUnmask {
			frame.Mask(h.Mask, 0, payload)
		}
		fr.log.add(dirRx, h, payload, 0, false, "")
		if fr.closed {
			continue
		}
		if fr.failed {
			// Only a close frame matters now: a valid one completes the
			// closing handshake the failure started; one with a status
			// code that is invalid (or an invalid reason) still gives the
			// testee's close code (DECISIONS.md, item 21).
			if h.Opcode == frame.OpClose && frame.Check(fr.checked(h), fr.from, 0) == nil {
				fr.close(payload)
			}
			continue
		}
		if err := frame.Check(fr.checked(h), fr.from, fr.allowRSV); err != nil {
			fr.failErr(err)
			continue
		}
		fr.frame(h, payload)
	}
}

func (fr *frameReader) skipping() bool { return fr.failed || fr.closed }

// checked returns the header that frame.Check is to see: h, with the
// masking the testee's role calls for if wrong masking is accepted.
func (fr *frameReader) checked(h frame.Header) frame.Header {
	if fr.wrongMasking {
		h.Masked = fr.from == frame.Client
	}
	return h
}

// frame handles one checked frame.
func (fr *frameReader) frame(h frame.Header, payload []byte) {
	switch h.Opcode {
	case frame.OpPing:
		fr.out <- rdEvent{kind: rdPing, payload: clone(payload)}
	case frame.OpPong:
		fr.out <- rdEvent{kind: rdPong, payload: clone(payload)}
	case frame.OpClose:
		fr.close(payload)
	case frame.OpText, frame.OpBinary:
		if fr.state != msgIdle {
			// RFC 6455, Section 5.4: the fragments of one message "MUST
			// NOT be interleaved" with those of another.
			fr.fail(int(frame.CloseProtocolError), "data frame inside a fragmented message")
			return
		}
		fr.state = msgBinary
		if h.Opcode == frame.OpText {
			fr.state = msgText
		}
		fr.compressed = h.Rsv&frame.RSV1 != 0
		fr.utf8.Reset()
		fr.data(h, payload)
	case frame.OpContinuation:
		if fr.state == msgIdle {
			fr.fail(int(frame.CloseProtocolError), "continuation frame outside a fragmented message")
			return
		}
		fr.data(h, payload)
	}
}

// data handles the payload of a data frame, already appended to fr.msg.
func (fr *frameReader) data(h frame.Header, payload []byte) {
	if fr.state == msgText && !fr.compressed && !fr.noUTF8 {
		if _, err := fr.utf8.Write(payload); err != nil {
			fr.failErr(err)
			return
		}
	}
	if !h.Fin {
		return
	}
	msg, wireLen := fr.msg, len(fr.msg)
	binary := fr.state == msgBinary
	fr.msg, fr.state = nil, msgIdle
	if fr.compressed {
		var err error
		msg, err = fr.inflate.inflate(msg, fr.maxMsg)
		switch {
		case errors.Is(err, errInflateTooBig):
			fr.fail(int(frame.CloseTooBig), "decompressed message longer than the size limit")
			return
		case err != nil:
			fr.fail(int(frame.CloseProtocolError), "bad permessage-deflate data: "+err.Error())
			return
		}
		if !binary && !fr.noUTF8 && !frame.ValidUTF8(msg) {
			fr.failErr(frame.ErrInvalidUTF8)
			return
		}
	} else if !binary && !fr.noUTF8 {
		if err := fr.utf8.End(); err != nil {
			fr.failErr(err)
			return
		}
	}
	if msg == nil {
		msg = []byte{}
	}
	fr.out <- rdEvent{kind: rdMessage, binary: binary, payload: msg, wireLen: wireLen}
}

// close handles the payload of a close frame whose header passed the
// checks. As the suite does, it takes the status code of any payload of two
// or more bytes before it validates the code and the reason: an invalid one
// is reported with its code (rdBadClose) and ends the reading like a valid
// one. A 1-byte payload, which has no code, is an ordinary violation, and
// is ignored after an earlier one.
func (fr *frameReader) close(payload []byte) {
	code, hasCode, reason, err := parseTesteeClose(payload)
	switch {
	case err == nil:
		fr.closed = true
		fr.out <- rdEvent{kind: rdClose, code: code, reason: clone(reason)}
	case hasCode:
		failCode, why := int(frame.CloseProtocolError), err.Error()
		var pe *frame.ProtocolError
		if errors.As(err, &pe) {
			failCode, why = int(pe.Code), pe.Reason
		}
		fr.closed = true
		fr.msg, fr.state = nil, msgIdle
		fr.out <- rdEvent{kind: rdBadClose, code: code, failCode: failCode,
			failMsg: fmt.Sprintf("invalid close frame (code %d): %s", code, why)}
	case !fr.failed:
		fr.failErr(err)
	}
}

func (fr *frameReader) failErr(err error) {
	code, reason := int(frame.CloseProtocolError), err.Error()
	var pe *frame.ProtocolError
	if errors.As(err, &pe) {
		code, reason = int(pe.Code), pe.Reason
	}
	fr.fail(code, reason)
}

func (fr *frameReader) fail(code int, reason string) {
	if fr.failed || fr.closed {
		return
	}
	fr.failed = true
	fr.msg, fr.state = nil, msgIdle
	fr.out <- rdEvent{kind: rdFail, code: code, failMsg: reason}
}

// drain discards input until TCP is gone, after framing was lost.
func (fr *frameReader) drain() {
	_, err := io.Copy(io.Discard, fr.br) // the octet logger sees it
	if err == nil {
		err = io.EOF
	}
	fr.gone(err)
}

func (fr *frameReader) gone(err error) {
	fr.out <- rdEvent{kind: rdGone, err: err}
}

// parseTesteeClose checks a close payload from the testee. Besides the rules
// of frame.ParseClose, the suite's endpoint accepts only the status codes
// 1000-1003, 1007-1011 and 3000-4999 (CASES.md, Section A.5), so 1012-1014
// are protocol errors here. hasCode reports whether the payload carries a
// status code (two bytes or more); code is that code, also when err says
// the code or the reason is invalid, and 0 for a close without status.
func parseTesteeClose(p []byte) (code int, hasCode bool, reason []byte, err error) {
	if len(p) >= 2 {
		code, hasCode = int(binary.BigEndian.Uint16(p)), true
	}
	c, reason, err := frame.ParseClose(p)
	switch {
	case err != nil:
		return code, hasCode, nil, err
	case !hasCode:
		return 0, false, nil, nil
	case c >= 1012 && c <= 1014:
		return code, true, nil, frame.ErrCloseCode
	}
	return code, true, reason, nil
}

func clone(b []byte) []byte {
	return append([]byte{}, b...)
}
