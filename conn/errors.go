package conn

import (
	"errors"
	"strconv"

	"github.com/wirelevel/ws/frame"
)

// CloseCode is a close status code: [CloseNormalClosure] and the other
// constants of this package, or an application's code from 3000 to 4999.
// It is [frame.CloseCode], whose String method names the registered codes.
type CloseCode = frame.CloseCode

// CloseError reports that the peer ended the connection: the code and
// reason of the close frame the peer sent, or code 1006
// ([CloseAbnormalClosure]) when the connection was lost before a close frame
// came (the peer closed TCP, a reset, a broken pipe), in which case Err
// holds the cause. It never stands for something this side did: a context
// or deadline of ours that stops a read or a write is returned as it is
// (errors.Is(err, context.Canceled)), and Close and CloseNow give
// [ErrClosed]. Use errors.As to read it.
type CloseError struct {
	Code   CloseCode // the peer's close code, or 1006
	Reason string    // the peer's reason: valid UTF-8, at most 123 bytes
	Err    error     // for code 1006: the error that ended the connection
}

// Error implements error.
func (e *CloseError) Error() string {
	if e.Code == frame.CloseAbnormal {
		s := "conn: connection closed without a close frame (1006)"
		if e.Err != nil {
			s += ": " + e.Err.Error()
		}
		return s
	}
	s := "conn: peer closed the connection: " + e.Code.String()
	if e.Reason != "" {
		s += ": " + strconv.Quote(e.Reason)
	}
	return s
}

// Unwrap returns the cause of a 1006 closure.
func (e *CloseError) Unwrap() error { return e.Err }

// CloseStatus returns the close code of the [CloseError] in err's chain, or 0
// if there is none.
func CloseStatus(err error) CloseCode {
	if ce, ok := errors.AsType[*CloseError](err); ok {
		return ce.Code
	}
	return 0
}

// ErrClosed is returned by calls made after this side closed the connection
// with [Conn.Close] or [Conn.CloseNow].
var ErrClosed = errors.New("conn: connection closed")

// Protocol errors this package detects beyond those of package frame. Each is
// a *frame.ProtocolError carrying its close code.
var (
	ErrContinuation = &frame.ProtocolError{Code: frame.CloseProtocolError, Reason: "continuation frame outside a fragmented message"}
	ErrInterleaved  = &frame.ProtocolError{Code: frame.CloseProtocolError, Reason: "new data frame inside a fragmented message"}
	ErrTooManyFrags = &frame.ProtocolError{Code: frame.CloseTooBig, Reason: "message has more frames than Options.MaxFragments allows"}
)

// ErrMessageTooBig is the error, for errors.Is, of a message over the read
// limit ([Options.ReadLimit]), after decompression for a compressed one: the
// connection fails with close code 1009. The error returned names the
// limit.
var ErrMessageTooBig = &frame.ProtocolError{Code: frame.CloseTooBig, Reason: "message over the read limit"}

// tooBigError is a message over the read limit: the *frame.ProtocolError
// that names the limit, which errors.As finds first and whose reason goes
// into the close frame, and ErrMessageTooBig for errors.Is.
type tooBigError struct{ pe *frame.ProtocolError }

func (e *tooBigError) Error() string   { return e.pe.Error() }
func (e *tooBigError) Unwrap() []error { return []error{e.pe, ErrMessageTooBig} }

// tooBig returns the 1009 error for a message over the read limit.
func tooBig(limit int64) error {
	return &tooBigError{&frame.ProtocolError{Code: frame.CloseTooBig,
		Reason: "message over the read limit of " + strconv.FormatInt(limit, 10) +
			" bytes; raise it with Options.ReadLimit or Conn.SetReadLimit"}}
}

// protocolCode returns the close code err calls for, if it is a protocol
// error.
func protocolCode(err error) (frame.CloseCode, bool) {
	if pe, ok := errors.AsType[*frame.ProtocolError](err); ok {
		return pe.Code, true
	}
	return 0, false
}
