//go:build amd64 && !purego

#include "textflag.h"

// UTF-8 validation with AVX2, after the "lookup" method of J. Keiser and
// D. Lemire, "Validating UTF-8 In Less Than One Instruction Per Byte"
// (Software: Practice and Experience, 2021).
//
// Every rule of RFC 3629 except the length of a multi-byte sequence can be
// checked on pairs of adjacent bytes, and what a pair may be is decided by
// three nibbles: the high and low nibbles of the earlier byte (prev1) and the
// high nibble of the later one (cur). Each nibble indexes a 16-entry table
// (VPSHUFB does 32 look-ups at once); each table entry has a bit set for every
// fault the nibble is consistent with, and the AND of the three entries has a
// bit set only for the faults the pair actually shows:
//
//	bit 0 SHORT   a lead byte (C0-FF) not followed by a continuation (80-BF)
//	bit 1 LONG    ASCII followed by a continuation
//	bit 2 OVER3   E0 followed by 80-9F: an overlong 3-byte form
//	bit 3 LARGE   F4 followed by 90-BF, or F5-FF by 90-BF: above U+10FFFF
//	bit 4 SURR    ED followed by A0-BF: a surrogate
//	bit 5 OVER2   C0 or C1 followed by a continuation: an overlong 2-byte form
//	bit 6 F80     F0 followed by 80-8F (overlong 4-byte), or F5-FF by 80-8F
//	bit 7 CONT2   a continuation followed by a continuation
//
// F4 and F5-FF differ only when cur is 80-8F, hence the two bits LARGE and F80
// (F80 shares its bit with the F0 overlong, which needs the same cur nibble).
//
// CONT2 is not a fault by itself: the third byte of a 3- or 4-byte sequence and
// the fourth of a 4-byte one are exactly the continuations that follow a
// continuation. Those positions are the ones whose byte 2 back is E0-FF or
// whose byte 3 back is F0-FF. XORing 0x80 there leaves a bit set wherever a
// continuation is missing or one too many.
//
// Last, text must not stop inside a sequence: its last byte must not be C0-FF,
// the one before it E0-FF, nor the one before that F0-FF.

// Fault bits per high nibble of prev1: 0-7 ASCII, 8-B continuation, C-F leads.
// 0-7: LONG; 8-B: CONT2; C: SHORT|OVER2; D: SHORT; E: SHORT|OVER3|SURR;
// F: SHORT|LARGE|F80.
DATA utf8Prev1Hi<>+0(SB)/8, $0x0202020202020202
DATA utf8Prev1Hi<>+8(SB)/8, $0x4915012180808080
GLOBL utf8Prev1Hi<>(SB), RODATA|NOPTR, $16

// Fault bits per low nibble of prev1. SHORT, LONG and CONT2 do not depend on
// it. 0: OVER2 (C0), OVER3 (E0), F80 (F0); 1: OVER2 (C1); 4: LARGE (F4);
// 5-F: LARGE|F80 (F5-FF), and D also SURR (ED).
DATA utf8Prev1Lo<>+0(SB)/8, $0xcbcbcb8b8383a3e7
DATA utf8Prev1Lo<>+8(SB)/8, $0xcbcbdbcbcbcbcbcb
GLOBL utf8Prev1Lo<>(SB), RODATA|NOPTR, $16

// Fault bits per high nibble of cur. 0-7 and C-F (not a continuation): SHORT.
// 8: LONG|OVER2|CONT2|OVER3|F80; 9: LONG|OVER2|CONT2|OVER3|LARGE;
// A-B: LONG|OVER2|CONT2|SURR|LARGE.
DATA utf8CurHi<>+0(SB)/8, $0x0101010101010101
DATA utf8CurHi<>+8(SB)/8, $0x01010101babaaee6
GLOBL utf8CurHi<>(SB), RODATA|NOPTR, $16

// Subtracted with unsigned saturation from the last 32 bytes of the text, it
// leaves a non-zero byte only if the text stops inside a sequence.
DATA utf8Incomplete<>+0(SB)/8, $0xffffffffffffffff
DATA utf8Incomplete<>+8(SB)/8, $0xffffffffffffffff
DATA utf8Incomplete<>+16(SB)/8, $0xffffffffffffffff
DATA utf8Incomplete<>+24(SB)/8, $0xbfdfefffffffffff
GLOBL utf8Incomplete<>(SB), RODATA|NOPTR, $32

// Registers held across the function:
//
//	Y6  0x60 in every byte     Y12 utf8CurHi in both lanes
//	Y7  0x70 in every byte     Y13 utf8Prev1Lo in both lanes
//	Y8  0x80 in every byte     Y14 utf8Prev1Hi in both lanes
//	Y9  incompleteness of the last block checked, for a following ASCII block
//	Y10 the 32 bytes before the block being checked (zero before the text)
//	Y11 fault bits so far
//	Y15 0x0F in every byte

// PREVS sets Y2, Y3 and Y4 to cur shifted by 1, 2 and 3 bytes, with the last
// bytes of the previous block, prev, shifted in. VPALIGNR works within each
// 128-bit lane, so Y1 first gets the previous block's high lane next to cur's
// low lane.
#define PREVS(cur, prev) \
	VPERM2I128 $0x21, cur, prev, Y1; \
	VPALIGNR   $15, Y1, cur, Y2; \
	VPALIGNR   $14, Y1, cur, Y3; \
	VPALIGNR   $13, Y1, cur, Y4

// CHECK ORs into Y11 the faults of the 32 bytes in cur, given the bytes 1, 2
// and 3 before each in Y2, Y3 and Y4. It clobbers Y1-Y4. In order:
// Y3 = 0x80 where a CONT2 pair is required (saturating 0xE0-0x80 off the
// byte 2 back, and 0xF0-0x80 off the byte 3 back, leaves the top bit set
// only for E0-FF and F0-FF); Y4 = AND of the table entries for prev1's high
// nibble, prev1's low nibble and cur's high nibble; then Y11 |= Y4 ^ Y3.
#define CHECK(cur) \
	VPSUBUSB Y6, Y3, Y3; \
	VPSUBUSB Y7, Y4, Y4; \
	VPOR     Y4, Y3, Y3; \
	VPAND    Y8, Y3, Y3; \
	VPSRLW   $4, Y2, Y4; \
	VPAND    Y15, Y4, Y4; \
	VPSHUFB  Y4, Y14, Y4; \
	VPAND    Y15, Y2, Y2; \
	VPSHUFB  Y2, Y13, Y2; \
	VPAND    Y2, Y4, Y4; \
	VPSRLW   $4, cur, Y2; \
	VPAND    Y15, Y2, Y2; \
	VPSHUFB  Y2, Y12, Y2; \
	VPAND    Y2, Y4, Y4; \
	VPXOR    Y3, Y4, Y4; \
	VPOR     Y4, Y11, Y11

// func utf8ValidAVX2(b []byte) bool
//
// The main loop takes 64 bytes at a time; if all are ASCII, the only fault they
// can show is a sequence cut short by their first byte, which is the previous
// block's incompleteness. The last 0-63 bytes are covered by one more block if
// over 32 remain, then by the final 32 bytes of the text, loaded with the 3
// bytes before each from memory; checking a byte twice is harmless, since
// every check depends only on the byte and the 3 before it. That needs
// len(b) >= 35.
TEXT ·utf8ValidAVX2(SB), NOSPLIT, $0-25
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	LEAQ (SI)(CX*1), BX  // end of text
	LEAQ -64(BX), DX     // last start of a whole 64-byte step

	MOVL         $0x0f0f0f0f, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	MOVL         $0x60606060, AX
	VMOVD        AX, X6
	VPBROADCASTD X6, Y6
	MOVL         $0x70707070, AX
	VMOVD        AX, X7
	VPBROADCASTD X7, Y7
	MOVL         $0x80808080, AX
	VMOVD        AX, X8
	VPBROADCASTD X8, Y8
	VBROADCASTI128 utf8CurHi<>(SB), Y12
	VBROADCASTI128 utf8Prev1Lo<>(SB), Y13
	VBROADCASTI128 utf8Prev1Hi<>(SB), Y14
	VPXOR        Y9, Y9, Y9
	VPXOR        Y10, Y10, Y10
	VPXOR        Y11, Y11, Y11

loop64:
	CMPQ    SI, DX
	JHI     tail
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y5
	VPOR    Y5, Y0, Y1
	VPTEST  Y8, Y1
	JNZ     multibyte
	VPOR    Y9, Y11, Y11 // all ASCII
	VPXOR   Y9, Y9, Y9
	VMOVDQU Y5, Y10
	ADDQ    $64, SI
	JMP     loop64

multibyte:
	PREVS(Y0, Y10)
	CHECK(Y0)
	PREVS(Y5, Y0)
	CHECK(Y5)
	VMOVDQU  Y5, Y10
	VPSUBUSB utf8Incomplete<>(SB), Y5, Y9
	VPTEST   Y11, Y11
	JNZ      invalid // stop early; the caller rescans with the DFA anyway
	ADDQ     $64, SI
	JMP      loop64

tail:
	MOVQ    BX, AX
	SUBQ    SI, AX
	CMPQ    AX, $32
	JLS     last
	VMOVDQU (SI), Y0
	PREVS(Y0, Y10)
	CHECK(Y0)

last:
	VMOVDQU  -32(BX), Y0
	VMOVDQU  -33(BX), Y2
	VMOVDQU  -34(BX), Y3
	VMOVDQU  -35(BX), Y4
	CHECK(Y0)
	VPSUBUSB utf8Incomplete<>(SB), Y0, Y1
	VPOR     Y1, Y11, Y11
	VPTEST   Y11, Y11
	JNZ      invalid
	VZEROUPPER
	MOVB     $1, ret+24(FP)
	RET

invalid:
	VZEROUPPER
	MOVB $0, ret+24(FP)
	RET
