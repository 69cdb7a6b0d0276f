//go:build linux

package conn

import (
	"syscall"
	"unsafe"
)

// maxIovec is how many buffers one writev takes.
const maxIovec = 64

// writeVecFD writes vec, less the first off bytes of vec[0], with one
// writev.
func writeVecFD(fd int, vec [][]byte, off int) (int, error) {
	var iov [maxIovec]syscall.Iovec
	k := 0
	for i, b := range vec {
		if i == 0 {
			b = b[off:]
		}
		if len(b) == 0 {
			continue
		}
		if k == len(iov) {
			break
		}
		iov[k].Base = &b[0]
		iov[k].SetLen(len(b))
		k++
	}
	if k == 0 {
		return 0, nil
	}
	n, _, e := syscall.Syscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(k))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
