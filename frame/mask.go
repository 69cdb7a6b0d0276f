package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the masking key, as RFC 6455 Section 5.3
// describes: payload byte i is XORed with key[i % 4]. pos is the position of
// b[0] within the frame payload (only pos%4 matters), so a payload can be
// masked in pieces across calls; Mask returns the position after b, to pass
// to the next call. Masking twice gives the input back, so Mask also unmasks.
func Mask(key [4]byte, pos int, b []byte) int {
	next := (pos + len(b)) & 3
	if len(b) == 0 {
		return next
	}
	// Rotate the key so that byte 0 of k lines up with b[0].
	k := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	if len(b) >= 8 {
		maskWords(uint64(k)<<32|uint64(k), b[:len(b)&^7])
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] ^= byte(k >> (8 * (i & 3)))
	}
	return next
}

// maskGeneric XORs b, whose length is a multiple of 8, with the 8-byte
// little-endian key k, 32 then 8 bytes at a time.
func maskGeneric(k uint64, b []byte) {
	for len(b) >= 32 {
		v0 := binary.LittleEndian.Uint64(b[0:8]) ^ k
		v1 := binary.LittleEndian.Uint64(b[8:16]) ^ k
		v2 := binary.LittleEndian.Uint64(b[16:24]) ^ k
		v3 := binary.LittleEndian.Uint64(b[24:32]) ^ k
		binary.LittleEndian.PutUint64(b[0:8], v0)
		binary.LittleEndian.PutUint64(b[8:16], v1)
		binary.LittleEndian.PutUint64(b[16:24], v2)
		binary.LittleEndian.PutUint64(b[24:32], v3)
		b = b[32:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
}

// maskBytewise is the reference definition of masking, one byte at a time.
// Tests hold the fast paths to it.
func maskBytewise(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}
