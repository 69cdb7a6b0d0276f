package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirelevel/ws/autobahn"
)

// deadURL returns a ws:// URL where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return "ws://" + ln.Addr().String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageErrors(t *testing.T) {
	dead := deadURL(t)
	malformed := writeFile(t, "bad.json", "{\n  \"servers\": [\n    {\"url\": \"ws://x\",}\n  ]\n}\n")
	noCases := writeFile(t, "none.json", `{"servers": [{"url": "`+dead+`"}], "cases": ["1.*"], "exclude-cases": ["1.*"]}`)
	unknownCase := writeFile(t, "unknown.json", `{"servers": [{"url": "`+dead+`"}], "cases": ["1.1.99"]}`)
	unreachable := writeFile(t, "dead.json", `{"servers": [{"url": "`+dead+`"}], "cases": ["1.1.1"], "outdir": "`+t.TempDir()+`"}`)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"-h"}, 0, "usage: wstest"},
		{"help lists what is not implemented", []string{"--help"}, 0, "Not implemented: wsperfcontrol"},
		{"versions", []string{"-a"}, 0, "Autobahn|Testsuite 25.10.1"},
		{"bad flag", []string{"-x"}, 2, "flag provided but not defined"},
		{"unknown mode", []string{"-m", "bogus"}, 2, "mode \"bogus\" is invalid; available modes:\n\t- broadcastclient\n\t- broadcastserver\n\t- echoclient"},
		{"mode not implemented", []string{"-m", "wsperfcontrol"}, 2, "not implemented"},
		{"no URL", []string{"-m", "echoclient"}, 2, "needs a WebSocket URI"},
		{"testee no URL", []string{"-m", "testeeclient"}, 2, "needs a WebSocket URI"},
		{"missing spec", []string{"-m", "fuzzingclient", "-s", "/nonexistent.json"}, 2, "no such file"},
		{"malformed spec", []string{"-m", "fuzzingclient", "-s", malformed}, 2, "bad.json:3:22: invalid character '}'"},
		{"unknown case", []string{"-m", "fuzzingclient", "-s", unknownCase}, 2, `"1.1.99" is not a case ID`},
		{"no case selected", []string{"-m", "fuzzingclient", "-s", noCases}, 3, "select no case"},
		{"no case selected, no mode", []string{"-cases", "99.*"}, 3, "select no case"},
		{"unreachable server", []string{"-m", "fuzzingclient", "-s", unreachable}, 4, "could not be reached: " + dead},
		{"bad scheme", []string{"-m", "echoclient", "-w", "http://x"}, 2, "scheme must be ws or wss"},
		{"unreachable echo server", []string{"-m", "echoclient", "-w", dead + "/"}, 4, "connection refused"},
		{"unreachable fuzzing server", []string{"-m", "testeeclient", "-w", dead}, 4, "connection refused"},
		{"extra argument", []string{"-m", "echoclient", "stray"}, 2, "unexpected argument"},
		{"bad web port", []string{"-m", "fuzzingserver", "-u", "70000"}, 2, "invalid Web port 70000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
				t.Fatalf("run(%q) = %d, output %q; want %d and %q", tt.args, code, out.String()+errb.String(), tt.code, tt.want)
			}
		})
	}
}

// TestImplicitSpec: a mode that needs a spec and has no -s uses ./MODE.json,
// and writes the suite's default there first if it is missing.
func TestImplicitSpec(t *testing.T) {
	t.Chdir(t.TempDir())
	dead := deadURL(t)
	var out, errb bytes.Buffer
	for _, mode := range modesNeedingSpec {
		out.Reset()
		p, err := specPath(config{mode: mode}, &out)
		b, rerr := os.ReadFile(mode + ".json")
		if err != nil || rerr != nil || p != mode+".json" || string(b) != specTemplates[mode] || !strings.Contains(out.String(), "auto-generating spec file "+mode+".json") {
			t.Fatalf("specPath(%s) = %q, %v; file %v; output %q", mode, p, err, rerr, out.String())
		}
	}
	// The suite's defaults are valid specs.
	if _, err := autobahn.LoadClientSpec("fuzzingclient.json"); err != nil {
		t.Errorf("default fuzzingclient spec: %v", err)
	}
	if _, err := autobahn.LoadServerSpec("fuzzingserver.json"); err != nil {
		t.Errorf("default fuzzingserver spec: %v", err)
	}
	if _, err := loadMassSpec(config{mode: "massconnect"}, &out); err != nil {
		t.Errorf("default massconnect spec: %v", err)
	}
	if err := os.WriteFile("fuzzingclient.json", []byte(`{"cases": ["1.1.1"], "outdir": "r"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	// A spec without servers takes -w's URL, as in the suite.
	if code := run([]string{"-m", "fuzzingclient", "-w", dead}, &out, &errb); code != 4 || !strings.Contains(out.String(), "using implicit spec file fuzzingclient.json") ||
		!strings.Contains(errb.String(), dead) {
		t.Fatalf("exit %d, output %s%s", code, out.String(), errb.String())
	}
}
