package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
)

// keyGUID is appended to Sec-WebSocket-Key before hashing.
//
// RFC 6455, Section 1.3: "the server has to take the value (as present in
// the header field, e.g., the base64-encoded [RFC4648] version minus any
// leading and trailing whitespace) and concatenate this with the Globally
// Unique Identifier (GUID, [RFC4122]) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
// in string form".
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptLen is the length of a Sec-WebSocket-Accept value: base64 of a
// 20-byte SHA-1 digest.
const acceptLen = 28

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key:
// base64(SHA-1(key + GUID)). See RFC 6455, Section 4.2.2.
func AcceptKey(key string) string {
	var out [acceptLen]byte
	return string(appendAccept(out[:0], key))
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value for key to dst and
// returns the extended slice. It allocates only when dst lacks room for 28
// bytes or key is longer than 92 bytes.
func AppendAcceptKey(dst, key []byte) []byte {
	return appendAccept(dst, key)
}

func appendAccept[T ~string | ~[]byte](dst []byte, key T) []byte {
	// A real key is 24 bytes; the scratch buffer spares the heap for keys
	// up to 92 bytes.
	var scratch [128]byte
	b := append(scratch[:0], key...)
	b = append(b, keyGUID...)
	sum := sha1.Sum(b)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// NewKey returns a new Sec-WebSocket-Key: 16 bytes from crypto/rand,
// base64-encoded. See RFC 6455, Section 4.1.
func NewKey() string {
	var out [24]byte
	return string(AppendNewKey(out[:0]))
}

// AppendNewKey appends a new Sec-WebSocket-Key to dst and returns the
// extended slice.
//
// RFC 6455, Section 4.1: "The nonce MUST be selected randomly for each
// connection."
func AppendNewKey(dst []byte) []byte {
	var nonce [16]byte
	rand.Read(nonce[:]) // never fails; see crypto/rand.Read
	return base64.StdEncoding.AppendEncode(dst, nonce[:])
}

// validKey reports whether key is base64 of exactly 16 bytes.
//
// RFC 6455, Section 4.2.1: "A |Sec-WebSocket-Key| header field with a
// base64-encoded (see Section 4 of [RFC4648]) value that, when decoded, is
// 16 bytes in length."
func validKey(key []byte) bool {
	if len(key) != 24 {
		return false
	}
	for _, c := range key {
		if c == '\r' || c == '\n' { // skipped by the decoder
			return false
		}
	}
	var out [18]byte
	n, err := base64.StdEncoding.Decode(out[:], key)
	return err == nil && n == 16
}
