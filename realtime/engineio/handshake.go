package engineio

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Handshake is the data of the Open packet the server sends first. See the
// Engine.IO protocol, version 4, section "Handshake".
type Handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"` // milliseconds
	PingTimeout  int64    `json:"pingTimeout"`  // milliseconds
	MaxPayload   int64    `json:"maxPayload"`   // bytes
}

// AppendOpen appends the Open packet carrying h in text form.
func AppendOpen(dst []byte, h Handshake) []byte {
	if h.Upgrades == nil {
		h.Upgrades = []string{}
	}
	b, _ := json.Marshal(h) // cannot fail: strings and integers only
	dst = append(dst, '0'+byte(Open))
	return append(dst, b...)
}

// ParseHandshake parses the data of an Open packet. The session id must be
// present and the durations positive.
func ParseHandshake(data []byte) (Handshake, error) {
	var h Handshake
	if err := json.Unmarshal(data, &h); err != nil {
		return Handshake{}, fmt.Errorf("%w: handshake: %v", ErrBadPacket, err)
	}
	if h.SID == "" || h.PingInterval <= 0 || h.PingTimeout <= 0 {
		return Handshake{}, fmt.Errorf("%w: handshake without sid, pingInterval or pingTimeout", ErrBadPacket)
	}
	return h, nil
}

// Millis converts d to whole milliseconds, the unit of the handshake.
func Millis(d time.Duration) int64 { return d.Milliseconds() }

// ErrorCode is the code in the JSON body of an HTTP error the server
// answers a bad Engine.IO request with.
type ErrorCode int

// The error codes of the reference server.
const (
	UnknownTransport   ErrorCode = 0
	UnknownSID         ErrorCode = 1
	BadHandshakeMethod ErrorCode = 2
	BadRequest         ErrorCode = 3
	Forbidden          ErrorCode = 4
	UnsupportedVersion ErrorCode = 5
)

var errorMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// String returns the message that goes with c, such as "Session ID unknown".
func (c ErrorCode) String() string {
	if c >= 0 && int(c) < len(errorMessages) {
		return errorMessages[c]
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// Status returns the HTTP status that goes with c: 403 for [Forbidden], 400
// for the others.
func (c ErrorCode) Status() int {
	if c == Forbidden {
		return 403
	}
	return 400
}

// AppendError appends the JSON error body for c, such as
// {"code":1,"message":"Session ID unknown"}.
func AppendError(dst []byte, c ErrorCode) []byte {
	return AppendErrorMessage(dst, c, c.String())
}

// AppendErrorMessage appends a JSON error body for c with a message of the
// server's own, as the reference server writes for a request its
// allowRequest hook refused: {"code":4,"message":"…"}.
func AppendErrorMessage(dst []byte, c ErrorCode, msg string) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(c), 10)
	dst = append(dst, `,"message":`...)
	b, _ := json.Marshal(msg) // cannot fail for a string
	dst = append(dst, b...)
	return append(dst, '}')
}
