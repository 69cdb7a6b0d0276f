package frame

// Role says which end of a connection sent a frame.
type Role uint8

// The two roles of RFC 6455.
const (
	Client Role = iota // the endpoint that opened the connection
	Server
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == Client {
		return "client"
	}
	return "server"
}

// Check reports whether h obeys the rules of RFC 6455 Section 5 for a frame
// sent by an endpoint in role from:
//
//   - reserved opcodes (3-7, 11-15) are rejected: "If an unknown opcode is
//     received, the receiving endpoint MUST _Fail the WebSocket Connection_"
//     (Section 5.2);
//   - a client masks every frame and a server masks none (Section 5.1);
//   - "All control frames MUST have a payload length of 125 bytes or less and
//     MUST NOT be fragmented" (Section 5.5);
//   - RSV bits must be zero "unless an extension is negotiated that defines
//     meanings for non-zero values" (Section 5.2). rsv holds the bits the
//     negotiated extensions allow on the first frame of a data message (RSV1
//     for permessage-deflate); continuation and control frames must have all
//     three bits clear.
//
// Check does not know the message state: a continuation frame outside a
// message, or a data frame inside one, is for the caller to reject.
func Check(h Header, from Role, rsv byte) error {
	if h.Opcode.IsReserved() {
		return ErrReservedOpcode
	}
	if h.Masked != (from == Client) {
		if from == Client {
			return ErrUnmasked
		}
		return ErrMasked
	}
	if h.Opcode.IsControl() {
		if h.Length > MaxControlPayload {
			return ErrControlTooLong
		}
		if !h.Fin {
			return ErrControlFragmented
		}
		if h.Rsv != 0 {
			return ErrReservedBits
		}
		return nil
	}
	if h.Opcode == OpContinuation {
		rsv = 0
	}
	if h.Rsv&^rsv != 0 {
		return ErrReservedBits
	}
	return nil
}
