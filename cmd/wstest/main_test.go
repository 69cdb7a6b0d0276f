package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"-h"}, 0, "usage: wstest"},
		{"bad flag", []string{"-x"}, 2, "flag provided but not defined"},
		{"unknown mode", []string{"-m", "bogus"}, 2, `unknown mode "bogus"`},
		{"no URL", []string{"-m", "echoclient"}, 1, "no URL given"},
		{"no spec", []string{"-m", "fuzzingclient"}, 1, "needs a spec"},
		{"missing spec", []string{"-m", "fuzzingclient", "-s", "/nonexistent.json"}, 1, "no such file"},
		{"testee no URL", []string{"-m", "testeeclient"}, 1, "no URL given"},
		{"bad scheme", []string{"-m", "echoclient", "-w", "http://x"}, 1, "scheme must be ws or wss"},
		{"unreachable", []string{"-m", "echoclient", "-w", "ws://127.0.0.1:1/"}, 1, "connection refused"},
		{"extra argument", []string{"-m", "echoclient", "stray"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("run(%q) = %d, output %q; want %d and %q", tt.args, code, out.String()+errb.String(), tt.code, tt.want)
			}
			if tt.code != 0 && strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
				t.Fatalf("error output is not one line: %q", errb.String())
			}
		})
	}
}
