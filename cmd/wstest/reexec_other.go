//go:build !unix

package main

// reexecWithXConnect does nothing where the process cannot replace itself:
// start wstest with GODEBUG=http2xconnect=1 to enable extended CONNECT.
func reexecWithXConnect() {}
