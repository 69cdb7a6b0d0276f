//go:build unix && !linux

package conn

import "syscall"

// maxIovec is how many buffers one write takes: one, without writev.
const maxIovec = 1

// writeVecFD writes what it can of vec[0], less its first off bytes.
func writeVecFD(fd int, vec [][]byte, off int) (int, error) {
	return syscall.Write(fd, vec[0][off:])
}
