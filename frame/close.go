package frame

import (
	"encoding/binary"
	"strconv"
)

// CloseCode is the status code of a close frame. See RFC 6455, Section 7.4.
type CloseCode uint16

// Close codes from RFC 6455 Section 7.4.1 and the IANA registry.
const (
	CloseNormal             CloseCode = 1000
	CloseGoingAway          CloseCode = 1001
	CloseProtocolError      CloseCode = 1002
	CloseUnsupportedData    CloseCode = 1003
	CloseNoStatus           CloseCode = 1005 // never on the wire: the close frame had no code
	CloseAbnormal           CloseCode = 1006 // never on the wire: no close frame at all
	CloseInvalidPayload     CloseCode = 1007
	ClosePolicyViolation    CloseCode = 1008
	CloseTooBig             CloseCode = 1009
	CloseMandatoryExtension CloseCode = 1010
	CloseInternalError      CloseCode = 1011
	CloseServiceRestart     CloseCode = 1012
	CloseTryAgainLater      CloseCode = 1013
	CloseBadGateway         CloseCode = 1014
	CloseTLSHandshake       CloseCode = 1015 // never on the wire
)

var closeNames = map[CloseCode]string{
	CloseNormal:             "normal closure",
	CloseGoingAway:          "going away",
	CloseProtocolError:      "protocol error",
	CloseUnsupportedData:    "unsupported data",
	CloseNoStatus:           "no status",
	CloseAbnormal:           "abnormal closure",
	CloseInvalidPayload:     "invalid payload data",
	ClosePolicyViolation:    "policy violation",
	CloseTooBig:             "message too big",
	CloseMandatoryExtension: "mandatory extension",
	CloseInternalError:      "internal error",
	CloseServiceRestart:     "service restart",
	CloseTryAgainLater:      "try again later",
	CloseBadGateway:         "bad gateway",
	CloseTLSHandshake:       "TLS handshake",
}

// String returns the code and its registered name, e.g. "1002 protocol error".
func (c CloseCode) String() string {
	s := strconv.Itoa(int(c))
	if name, ok := closeNames[c]; ok {
		return s + " " + name
	}
	return s
}

// Valid reports whether c may appear in a close frame: 1000-1003, 1007-1014 or
// 3000-4999. 0-999, 1004-1006, 1015, 1016-2999 and 5000 and up are invalid.
// See RFC 6455, Section 7.4.
func (c CloseCode) Valid() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// MaxCloseReason is the longest close reason in bytes: a control payload of
// 125 bytes less the 2-byte code.
const MaxCloseReason = MaxControlPayload - 2

// AppendClose appends a close payload to dst: the 2-byte big-endian code, then
// reason. If code is [CloseNoStatus] it appends nothing, since that code means
// "no code in the frame". Like [AppendHeader] it writes what it is given; use
// [CloseCode.Valid] and [ValidUTF8] first when that matters.
func AppendClose(dst []byte, code CloseCode, reason string) []byte {
	if code == CloseNoStatus {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// ParseClose decodes a close frame payload. An empty payload gives
// [CloseNoStatus] and no reason. It returns [ErrCloseLength] for a 1-byte
// payload, [ErrControlTooLong] for one over 125 bytes, [ErrCloseCode] for a
// code that is not [CloseCode.Valid] and [ErrCloseReason] (close code 1007)
// for a reason that is not valid UTF-8. The reason aliases p.
func ParseClose(p []byte) (code CloseCode, reason []byte, err error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, nil, nil
	case len(p) == 1:
		return 0, nil, ErrCloseLength
	case len(p) > MaxControlPayload:
		return 0, nil, ErrControlTooLong
	}
	code = CloseCode(binary.BigEndian.Uint16(p))
	if !code.Valid() {
		return 0, nil, ErrCloseCode
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return 0, nil, ErrCloseReason
	}
	return code, reason, nil
}
