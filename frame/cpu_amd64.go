//go:build amd64 && !purego

package frame

// x86HasAVX2 reports whether the CPU has AVX2 and the operating system saves
// the YMM registers across context switches, so AVX2 code may run.
var x86HasAVX2 = detectAVX2()

// detectAVX2 follows Intel SDM Vol. 1, Section 14.3 ("Detection of Intel AVX
// instructions"): CPUID.1:ECX must show OSXSAVE and AVX, XCR0 must show that
// the OS saves SSE and AVX state, and CPUID.(EAX=7,ECX=0):EBX must show AVX2.
func detectAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	const (
		osxsave = 1 << 27 // CPUID.1:ECX
		avx     = 1 << 28 // CPUID.1:ECX
		avx2    = 1 << 5  // CPUID.(7,0):EBX
		xmmYmm  = 1<<1 | 1<<2
	)
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&xmmYmm != xmmYmm {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&avx2 != 0
}

// cpuid executes CPUID with EAX=eaxArg and ECX=ecxArg.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0 (XCR0). Call it only when CPUID
// reports OSXSAVE; otherwise the instruction faults.
func xgetbv() (eax, edx uint32)
