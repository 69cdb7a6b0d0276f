//go:build unix

package main

import "syscall"

// raiseFileLimit raises the soft limit on open files to n if it is lower
// (up to the hard limit) and returns the limit now in force, or 0 if it
// cannot tell.
func raiseFileLimit(n uint64) uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	if l.Cur < n {
		l.Cur = min(n, l.Max)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return l.Cur
}
