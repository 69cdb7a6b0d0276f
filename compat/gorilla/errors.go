package websocket

import (
	"errors"
	"strconv"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/frame"
)

// Close codes defined in RFC 6455, section 11.7.
const (
	CloseNormalClosure           = 1000
	CloseGoingAway               = 1001
	CloseProtocolError           = 1002
	CloseUnsupportedData         = 1003
	CloseNoStatusReceived        = 1005
	CloseAbnormalClosure         = 1006
	CloseInvalidFramePayloadData = 1007
	ClosePolicyViolation         = 1008
	CloseMessageTooBig           = 1009
	CloseMandatoryExtension      = 1010
	CloseInternalServerErr       = 1011
	CloseServiceRestart          = 1012
	CloseTryAgainLater           = 1013
	CloseTLSHandshake            = 1015
)

// The message types are defined in RFC 6455, section 11.8.
const (
	// TextMessage denotes a text data message. The text message payload
	// is interpreted as UTF-8 encoded text data.
	TextMessage = 1

	// BinaryMessage denotes a binary data message.
	BinaryMessage = 2

	// CloseMessage denotes a close control message. The optional message
	// payload contains a numeric code and text. Use the FormatCloseMessage
	// function to format a close message payload.
	CloseMessage = 8

	// PingMessage denotes a ping control message. The optional message
	// payload is UTF-8 encoded text.
	PingMessage = 9

	// PongMessage denotes a pong control message. The optional message
	// payload is UTF-8 encoded text.
	PongMessage = 10
)

// ErrBadHandshake is returned when the server response to opening
// handshake is invalid: a status other than 101, with the response.
var ErrBadHandshake = errors.New("websocket: bad handshake")

// ErrCloseSent is returned when the application writes a message to the
// connection after sending a close message (or after the peer's close
// message was answered).
var ErrCloseSent = errors.New("websocket: close sent")

// ErrReadLimit is returned when reading a message that is larger than the
// read limit set for the connection. It matches conn.ErrMessageTooBig with
// errors.Is too.
var ErrReadLimit = errors.New("websocket: read limit exceeded")

var (
	errBadWriteOpCode      = errors.New("websocket: bad write message type")
	errWriteTimeout        = &timeoutError{"websocket: write timeout"}
	errInvalidControlFrame = errors.New("websocket: invalid control frame")
	errMalformedURL        = errors.New("malformed ws or wss URL")
	errWriterClosed        = errors.New("websocket: write to a closed writer")
)

// readLimitError is ErrReadLimit, which conn.ErrMessageTooBig also
// matches.
type readLimitError struct{ err error }

func (e *readLimitError) Error() string   { return ErrReadLimit.Error() }
func (e *readLimitError) Unwrap() []error { return []error{ErrReadLimit, e.err} }

// timeoutError is a net.Error that timed out.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// CloseError represents a close message.
type CloseError struct {
	// Code is defined in RFC 6455, section 11.7.
	Code int

	// Text is the optional text payload.
	Text string
}

// closeNames are the names CloseError.Error gives the codes, as
// gorilla/websocket writes them.
var closeNames = map[int]string{
	CloseNormalClosure:           "normal",
	CloseGoingAway:               "going away",
	CloseProtocolError:           "protocol error",
	CloseUnsupportedData:         "unsupported data",
	CloseNoStatusReceived:        "no status",
	CloseAbnormalClosure:         "abnormal closure",
	CloseInvalidFramePayloadData: "invalid payload data",
	ClosePolicyViolation:         "policy violation",
	CloseMessageTooBig:           "message too big",
	CloseMandatoryExtension:      "mandatory extension missing",
	CloseInternalServerErr:       "internal server error",
	CloseTLSHandshake:            "TLS handshake error",
}

// Error returns the message gorilla/websocket gives, such as
// "websocket: close 1000 (normal): bye".
func (e *CloseError) Error() string {
	s := "websocket: close " + strconv.Itoa(e.Code)
	if name, ok := closeNames[e.Code]; ok {
		s += " (" + name + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// IsCloseError returns boolean indicating whether the error is a
// *CloseError with one of the specified codes. Unlike gorilla's, it also
// finds a *CloseError wrapped in err.
func IsCloseError(err error, codes ...int) bool {
	var e *CloseError
	if errors.As(err, &e) {
		for _, code := range codes {
			if e.Code == code {
				return true
			}
		}
	}
	return false
}

// IsUnexpectedCloseError returns boolean indicating whether the error is a
// *CloseError with a code not in the list of expected codes.
func IsUnexpectedCloseError(err error, expectedCodes ...int) bool {
	var e *CloseError
	if errors.As(err, &e) {
		for _, code := range expectedCodes {
			if e.Code == code {
				return false
			}
		}
		return true
	}
	return false
}

// FormatCloseMessage formats closeCode and text as a WebSocket close
// message. An empty message is returned for code CloseNoStatusReceived.
func FormatCloseMessage(closeCode int, text string) []byte {
	if closeCode == CloseNoStatusReceived {
		return []byte{}
	}
	return frame.AppendClose(make([]byte, 0, 2+len(text)), frame.CloseCode(closeCode), text)
}

// HandshakeError describes an error with the handshake from the peer.
type HandshakeError struct {
	message string
	err     error
}

// Error returns the description of the failure.
func (e HandshakeError) Error() string { return e.message }

// Unwrap returns the cause, such as a *handshake.RejectError.
func (e HandshakeError) Unwrap() error { return e.err }

// closeError converts the peer's close (or a lost connection) to
// gorilla's CloseError.
func closeError(ce *conn.CloseError) *CloseError {
	if ce.Code == conn.CloseAbnormalClosure {
		// gorilla reports a connection lost without a close frame as
		// 1006 with the text of io.ErrUnexpectedEOF.
		return &CloseError{Code: CloseAbnormalClosure, Text: "unexpected EOF"}
	}
	return &CloseError{Code: int(ce.Code), Text: ce.Reason}
}
