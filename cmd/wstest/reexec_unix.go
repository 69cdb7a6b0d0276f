//go:build unix

package main

import (
	"os"
	"syscall"
)

// reexecWithXConnect replaces the process with itself, with
// GODEBUG=http2xconnect=1 added to the environment: Go reads the setting
// once at start-up. It returns only if that fails.
func reexecWithXConnect() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := os.Environ()
	godebug := "http2xconnect=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	env = append(env, "GODEBUG="+godebug)
	syscall.Exec(exe, os.Args, env)
}
