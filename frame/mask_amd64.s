//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// maskEdge holds 32 zero bytes, 32 bytes of 0xFF and 32 zero bytes. The 32
// bytes at maskEdge+64-h have 0xFF in their first h bytes; those at
// maskEdge+r have 0xFF in their last r bytes (0 <= h, r <= 32).
DATA  maskEdge<>+0(SB)/8, $0
DATA  maskEdge<>+8(SB)/8, $0
DATA  maskEdge<>+16(SB)/8, $0
DATA  maskEdge<>+24(SB)/8, $0
DATA  maskEdge<>+32(SB)/8, $-1
DATA  maskEdge<>+40(SB)/8, $-1
DATA  maskEdge<>+48(SB)/8, $-1
DATA  maskEdge<>+56(SB)/8, $-1
DATA  maskEdge<>+64(SB)/8, $0
DATA  maskEdge<>+72(SB)/8, $0
DATA  maskEdge<>+80(SB)/8, $0
DATA  maskEdge<>+88(SB)/8, $0
GLOBL maskEdge<>(SB), RODATA|NOPTR, $96

// func maskWords(k uint64, b []byte)
//
// len(b) is a multiple of 8. The low byte of k is the key byte for b[0], and
// k holds the 4-byte key twice, so every 8-byte word of b takes all of k, and
// the key for b[j] is k rotated right by 8*j bits (mod 64, as rotating by 32
// changes nothing). Loads and stores are unaligned, except that from 1 KiB the
// AVX2 loop aligns its stores to 32 bytes, so that none splits a cache line:
// it masks the bytes before the first boundary and after the last with one
// 32-byte step each, whose key is zeroed outside those bytes. (Below 1 KiB,
// that costs more than the split stores do; from 4 KiB, unaligned buffers run
// 1.5 times as fast with it. See BenchmarkMaskImpl.)
TEXT ·maskWords(SB), NOSPLIT, $0-32
	MOVQ ·maskImpl(SB), DX
	CMPQ DX, $const_maskGo
	JEQ  generic
	MOVQ k+0(FP), AX
	MOVQ b_base+8(FP), DI
	MOVQ b_len+16(FP), CX
	CMPQ CX, $64
	JB   short
	CMPQ DX, $const_maskAVX2
	JEQ  avx2
	JMP  sse2

short: // too short to repay setting up vector registers
	CMPQ CX, $32
	JB   words
	XORQ AX, (DI)
	XORQ AX, 8(DI)
	XORQ AX, 16(DI)
	XORQ AX, 24(DI)
	ADDQ $32, DI
	SUBQ $32, CX
	JMP  words

generic:
	JMP ·maskGeneric(SB)

avx2:
	VMOVQ        AX, X0
	VPBROADCASTQ X0, Y0
	CMPQ         CX, $1024
	JAE          avx2_long
	CMPQ         CX, $128
	JB           avx2_32

avx2_128:
	VPXOR   (DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     avx2_128

avx2_32:
	CMPQ    CX, $32
	JB      avx2_16
	VPXOR   (DI), Y0, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     avx2_32

avx2_16:
	VZEROUPPER
	CMPQ    CX, $16
	JB      words
	VPXOR   (DI), X0, X1
	VMOVDQU X1, (DI)
	ADDQ    $16, DI
	SUBQ    $16, CX
	JMP     words

avx2_long:
	// b = head (h bytes to the first 32-byte boundary) + body (a multiple of
	// 32 bytes) + tail (r bytes). The tail is masked first, as the last r
	// bytes of the 32-byte block ending at the end of b, and the head last, as
	// the first h bytes of the block at b[0]; either step rewrites the rest of
	// its block unchanged. Done in this order, neither block is loaded while
	// the body's store to the same bytes may still wait in the store buffer,
	// which would stall the load. The key for both blocks is k, as len(b) is
	// a multiple of 8.
	MOVQ         DI, R9             // b[0]
	MOVQ         DI, BX
	NEGQ         BX
	ANDQ         $31, BX            // h
	LEAQ         (DI)(CX*1), R8     // end of b
	SUBQ         BX, CX
	MOVQ         CX, DX
	ANDQ         $31, DX            // r
	SUBQ         DX, CX             // body length
	LEAQ         maskEdge<>(SB), R10
	VPAND        (R10)(DX*1), Y0, Y1
	VPXOR        -32(R8), Y1, Y1
	VMOVDQU      Y1, -32(R8)
	ADDQ         BX, DI             // the body, 32-byte aligned
	MOVQ         CX, R11
	LEAQ         (BX*8), CX
	RORQ         CL, AX             // the key for the body's first byte
	MOVQ         R11, CX
	VMOVQ        AX, X2
	VPBROADCASTQ X2, Y2

avx2_body128:
	VPXOR   (DI), Y2, Y1
	VPXOR   32(DI), Y2, Y3
	VPXOR   64(DI), Y2, Y4
	VPXOR   96(DI), Y2, Y5
	VMOVDQU Y1, (DI)
	VMOVDQU Y3, 32(DI)
	VMOVDQU Y4, 64(DI)
	VMOVDQU Y5, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     avx2_body128

avx2_body32:
	TESTQ   CX, CX
	JZ      avx2_head
	VPXOR   (DI), Y2, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     avx2_body32

avx2_head:
	LEAQ    maskEdge<>+64(SB), R10
	SUBQ    BX, R10
	VPAND   (R10), Y0, Y1
	VPXOR   (R9), Y1, Y1
	VMOVDQU Y1, (R9)
	VZEROUPPER
	RET

sse2:
	MOVQ       AX, X0
	PUNPCKLQDQ X0, X0
	CMPQ       CX, $64
	JB         sse2_16

sse2_64:
	MOVOU (DI), X1
	MOVOU 16(DI), X2
	MOVOU 32(DI), X3
	MOVOU 48(DI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, (DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, DI
	SUBQ  $64, CX
	CMPQ  CX, $64
	JAE   sse2_64

sse2_16:
	CMPQ  CX, $16
	JB    words
	MOVOU (DI), X1
	PXOR  X0, X1
	MOVOU X1, (DI)
	ADDQ  $16, DI
	SUBQ  $16, CX
	JMP   sse2_16

words:
	CMPQ CX, $8
	JB   done
	XORQ AX, (DI)
	ADDQ $8, DI
	SUBQ $8, CX
	JMP  words

done:
	RET
