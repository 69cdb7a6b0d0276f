package frame

// ProtocolError is a violation of the WebSocket protocol by the peer. Code is
// the close code the connection must be failed with, as a TLS alert names the
// reason a handshake failed.
type ProtocolError struct {
	Code   CloseCode
	Reason string // lower case, no final period
}

// Error implements error.
func (e *ProtocolError) Error() string {
	return "frame: " + e.Reason + " (close " + e.Code.String() + ")"
}

func protocolError(code CloseCode, reason string) *ProtocolError {
	return &ProtocolError{Code: code, Reason: reason}
}

// Errors found while decoding or checking frames. Each is a *ProtocolError; use
// errors.Is to test for one and errors.As to read its close code.
var (
	ErrLengthMSB         = protocolError(CloseProtocolError, "64-bit payload length has its most significant bit set")
	ErrNonMinimalLength  = protocolError(CloseProtocolError, "payload length not in its minimal encoding")
	ErrReservedOpcode    = protocolError(CloseProtocolError, "reserved opcode")
	ErrReservedBits      = protocolError(CloseProtocolError, "reserved bits set without an extension that defines them")
	ErrControlTooLong    = protocolError(CloseProtocolError, "control frame payload over 125 bytes")
	ErrControlFragmented = protocolError(CloseProtocolError, "fragmented control frame")
	ErrUnmasked          = protocolError(CloseProtocolError, "client frame not masked")
	ErrMasked            = protocolError(CloseProtocolError, "server frame masked")
	ErrCloseLength       = protocolError(CloseProtocolError, "close payload of 1 byte")
	ErrCloseCode         = protocolError(CloseProtocolError, "close code not valid on the wire")
	ErrCloseReason       = protocolError(CloseInvalidPayload, "close reason is not valid UTF-8")
	ErrInvalidUTF8       = protocolError(CloseInvalidPayload, "text is not valid UTF-8")
)
