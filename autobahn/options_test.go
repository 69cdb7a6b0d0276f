package autobahn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestApplyProtocolOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    map[string]any
		mode    string
		check   func(o *Options) bool
		warning string // a warning that must be there
		err     string // the error, if any
	}{
		{"failByDrop", map[string]any{"failByDrop": true}, ModeFuzzingClient, func(o *Options) bool { return o.FailByDrop }, "", ""},
		{"timeouts", map[string]any{"openHandshakeTimeout": 2.5, "closeHandshakeTimeout": 0.0, "serverConnectionDropTimeout": 3.0}, ModeFuzzingClient,
			func(o *Options) bool {
				return o.OpenHandshakeTimeout == 2500*time.Millisecond && o.CloseHandshakeTimeout < 0 && o.ServerDropTimeout == 3*time.Second
			}, "", ""},
		{"sizes", map[string]any{"autoFragmentSize": 1300.0, "maxFramePayloadSize": 100.0, "maxMessagePayloadSize": 1000.0}, ModeFuzzingServer,
			func(o *Options) bool {
				return o.AutoFragmentSize == 1300 && o.MaxFramePayloadSize == 100 && o.MaxMessageSize == 1000
			}, "", ""},
		{"no message limit keeps the bound", map[string]any{"maxMessagePayloadSize": 0.0}, ModeFuzzingClient,
			func(o *Options) bool { return o.MaxMessageSize == 0 }, "", ""},
		{"flags", map[string]any{"utf8validateIncoming": false, "applyMask": false, "echoCloseCodeReason": true, "tcpNoDelay": false}, ModeFuzzingClient,
			func(o *Options) bool {
				return o.NoUTF8Validation && o.NoApplyMask && o.EchoCloseCodeReason && o.NoTCPNoDelay
			}, "", ""},
		{"client masking", map[string]any{"maskClientFrames": false, "acceptMaskedServerFrames": true}, ModeFuzzingClient,
			func(o *Options) bool { return o.UnmaskedClientFrames && o.AcceptMaskedServerFrames }, "", ""},
		{"server masking", map[string]any{"maskServerFrames": true, "requireMaskedClientFrames": false}, ModeFuzzingServer,
			func(o *Options) bool { return o.MaskedServerFrames && o.AcceptUnmaskedClientFrames }, "", ""},
		{"version 18 is 13", map[string]any{"version": 18.0}, ModeFuzzingClient, func(o *Options) bool { return o.WebSocketVersion == 13 }, "", ""},
		{"version 10 is 8", map[string]any{"version": 10.0}, ModeFuzzingClient, func(o *Options) bool { return o.WebSocketVersion == 8 }, "", ""},
		{"versions", map[string]any{"versions": []any{13.0}}, ModeFuzzingServer, func(o *Options) bool { return slices.Equal(o.AcceptVersions, []int{13}) }, "", ""},
		{"version in server mode", map[string]any{"version": 18.0}, ModeFuzzingServer, func(o *Options) bool { return o.WebSocketVersion == 0 }, "applies to the other mode", ""},
		{"unknown", map[string]any{"failByDorp": true}, ModeFuzzingClient, func(o *Options) bool { return !o.FailByDrop }, `unknown option "failByDorp"`, ""},
		{"not supported", map[string]any{"autoPingInterval": 5.0}, ModeFuzzingClient, nil, "autoPingInterval is not supported", ""},
		{"Hixie-76", map[string]any{"version": 0.0}, ModeFuzzingClient, nil, "", "Hixie-76"},
		{"bad draft", map[string]any{"version": 9.0}, ModeFuzzingClient, nil, "", "invalid WebSocket draft version 9"},
		{"wrong type", map[string]any{"failByDrop": "no"}, ModeFuzzingClient, nil, "", "failByDrop: no is not true or false"},
		{"negative", map[string]any{"closeHandshakeTimeout": -1.0}, ModeFuzzingClient, nil, "", "negative"},
		{"fraction", map[string]any{"autoFragmentSize": 1.5}, ModeFuzzingClient, nil, "", "not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			w, err := o.ApplyProtocolOptions(tt.opts, tt.mode)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ApplyProtocolOptions(%v) err = %v, want %q", tt.opts, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyProtocolOptions(%v): %v", tt.opts, err)
			}
			if tt.check != nil && !tt.check(&o) {
				t.Errorf("ApplyProtocolOptions(%v) gave %+v", tt.opts, o)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(w, "\n"), tt.warning) {
				t.Errorf("ApplyProtocolOptions(%v) warnings %q, want %q", tt.opts, w, tt.warning)
			}
			if tt.warning == "" && len(w) > 0 {
				t.Errorf("ApplyProtocolOptions(%v) warnings %q, want none", tt.opts, w)
			}
		})
	}
}

// TestProtocolOptionsOnTheWire runs cases against the raw testee with the
// suite's protocol options in the spec and checks what each option changes.
func TestProtocolOptionsOnTheWire(t *testing.T) {
	good, err := startTesteeServer(t, flaws{})
	if err != nil {
		t.Fatal(err)
	}
	lax, err := startTesteeServer(t, flaws{noUTF8: true})
	if err != nil {
		t.Fatal(err)
	}
	closer, err := startTesteeServer(t, flaws{closeFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		url   string
		id    string
		opts  map[string]any
		check func(cr *CaseResult) string // what is wrong, or ""
	}{
		{"default", lax, "6.3.1", nil, func(cr *CaseResult) string {
			if !cr.FailedByMe || cr.LocalCloseCode == nil || *cr.LocalCloseCode != 1007 || cr.DroppedByMe {
				return "the fuzzer should fail the connection with close 1007"
			}
			return ""
		}},
		{"failByDrop", lax, "6.3.1", map[string]any{"failByDrop": true}, func(cr *CaseResult) string {
			if !cr.FailedByMe || cr.LocalCloseCode != nil || !cr.DroppedByMe || cr.WasClean || !strings.Contains(cr.WasNotCleanReason, "failByDrop") {
				return "the fuzzer should fail the connection by dropping TCP"
			}
			return ""
		}},
		{"utf8validateIncoming", lax, "6.3.1", map[string]any{"utf8validateIncoming": false}, func(cr *CaseResult) string {
			if cr.FailedByMe || len(cr.Received) != 1 {
				return "the fuzzer should take the invalid text the testee echoes"
			}
			return ""
		}},
		{"applyMask", good, "1.2.2", map[string]any{"applyMask": false}, func(cr *CaseResult) string {
			if cr.Behavior != VerdictFailed || len(cr.WireLog) == 0 {
				return "the testee, unmasking a payload that was not masked, should echo other bytes"
			}
			return ""
		}},
		{"autoFragmentSize", good, "6.2.1", map[string]any{"autoFragmentSize": 4.0}, func(cr *CaseResult) string {
			// A message (not a raw frame, as in 1.x) of 29 bytes.
			if cr.Behavior != VerdictOK || cr.Wire.TxFrames["1"] != 1 || cr.Wire.TxFrames["0"] != 7 {
				return "29 bytes should go in 8 frames"
			}
			return ""
		}},
		{"maxFramePayloadSize", good, "1.1.6", map[string]any{"maxFramePayloadSize": 1000.0}, func(cr *CaseResult) string {
			if !cr.FailedByMe || cr.LocalCloseCode == nil || *cr.LocalCloseCode != 1008 {
				return "the fuzzer should fail the testee's 65535-byte frame with 1008"
			}
			return ""
		}},
		{"maxMessagePayloadSize", good, "1.1.6", map[string]any{"maxMessagePayloadSize": 1000.0}, func(cr *CaseResult) string {
			if !cr.FailedByMe || cr.LocalCloseCode == nil || *cr.LocalCloseCode != 1009 {
				return "the fuzzer should fail the testee's 65535-byte message with 1009"
			}
			return ""
		}},
		{"echoCloseCodeReason", closer, "1.1.1", map[string]any{"echoCloseCodeReason": true}, func(cr *CaseResult) string {
			if cr.LocalCloseCode == nil || *cr.LocalCloseCode != 1008 {
				return "the fuzzer should answer close 1008 with 1008"
			}
			return ""
		}},
		{"version", good, "1.1.1", map[string]any{"version": 10.0}, func(cr *CaseResult) string {
			if !strings.Contains(cr.HTTPRequest, "Sec-WebSocket-Version: 8\r\n") {
				return "draft 10 should send Sec-WebSocket-Version: 8"
			}
			return ""
		}},
		{"maskClientFrames", good, "1.1.1", map[string]any{"maskClientFrames": false}, func(cr *CaseResult) string {
			for _, e := range cr.WireLog {
				if e.Kind == WireTxFrame && e.Masked {
					return "the fuzzer should send unmasked frames"
				}
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The options go at the top of the spec for one half of the
			// tests, per server for the other.
			spec := &ClientSpec{Servers: []ServerEntry{{URL: tt.url}}, Cases: []string{tt.id}}
			if len(tt.name)%2 == 0 {
				spec.Options = tt.opts
			} else {
				spec.Servers[0].Options = tt.opts
			}
			res, err := RunFuzzingClient(context.Background(), spec, &Options{CloseHandshakeTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			cr := res.Lookup("raw-testee", tt.id)
			if cr == nil {
				t.Fatalf("no result: %+v", res)
			}
			if why := tt.check(cr); why != "" {
				t.Errorf("%s with %v: %s; got %s/%s, failedByMe %v, droppedByMe %v, local close %v, frames sent %v: %s",
					tt.id, tt.opts, why, cr.Behavior, cr.BehaviorClose, cr.FailedByMe, cr.DroppedByMe, cr.LocalCloseCode, cr.Wire.TxFrames, cr.Result)
			}
		})
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{"syntax", "{\n  \"servers\": [\n    {\"url\": \"ws://x\",}\n  ]\n}", "spec:3:22: invalid character '}'"},
		{"end", `{"servers": [`, "spec:1:14: unexpected end of JSON input"},
		{"type", "{\n\"cases\": \"*\"}", "spec:2:13: cases is string, want a list"},
		{"no servers", `{"cases": ["*"]}`, "no servers"},
		{"unknown case", `{"servers": [{"url": "ws://x"}], "cases": ["1.1.99"]}`, `"1.1.99" is not a case ID`},
		{"bad pattern", `{"servers": [{"url": "ws://x"}], "cases": ["1.[*"]}`, `case pattern "1.[*"`},
		{"bad agent pattern", `{"servers": [{"url": "ws://x"}], "exclude-agent-cases": {"a(": ["1.*"]}}`, `exclude-agent-cases pattern "a("`},
		{"bad url", `{"servers": [{"url": "http://x"}]}`, "servers[0]: url"},
		{"bad option", `{"servers": [{"url": "ws://x", "options": {"version": 0}}]}`, "servers[0].options: version: Hixie-76"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseClientSpec([]byte(tt.spec))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseClientSpec(%q) = %v, want an error with %q", tt.spec, err, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"key": "k.pem"}`, `{"webport": 70000}`, `{"url": "wss://x", "cases": ["*"], "options": {"versions": [0]}}`} {
		if _, err := ParseServerSpec([]byte(bad)); err == nil {
			t.Errorf("ParseServerSpec(%s) succeeded", bad)
		}
	}
}

func TestSpecWarnings(t *testing.T) {
	cs, err := ParseClientSpec([]byte(`{"outdir": "r", "exclude-case": ["9.*"], "options": {"failByDrop": false, "autoPingInterval": 1},
		"servers": [{"url": "ws://127.0.0.1:1", "agent": "a", "name": "x", "hostname": "localhost", "options": {"versoin": 18}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`unknown field "exclude-case"`, `options: autoPingInterval is not supported`, `unknown field servers[0]."name"`, `servers[0].options: unknown option "versoin"`}
	got := strings.Join(cs.Warnings, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("warnings %q lack %q", cs.Warnings, w)
		}
	}
	if len(cs.Warnings) != len(want) || cs.Servers[0].Hostname != "localhost" {
		t.Errorf("warnings %q, hostname %q", cs.Warnings, cs.Servers[0].Hostname)
	}
	ss, err := ParseServerSpec([]byte(`{"url": "wss://127.0.0.1:9001", "key": "k.pem", "cert": "c.pem", "webport": 8080, "protocols": ["x"], "options": {"failByDrop": false, "version": 18}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ss.Key != "k.pem" || ss.Cert != "c.pem" || ss.WebPort == nil || *ss.WebPort != 8080 || len(ss.Warnings) != 1 || !strings.Contains(ss.Warnings[0], "version applies to the other mode") {
		t.Errorf("server spec %+v", ss)
	}
	// The spec's cert and key must load.
	if _, err := NewFuzzingServer(ss, nil); err == nil || !strings.Contains(err.Error(), "cert and key") {
		t.Errorf("NewFuzzingServer with missing key files: %v", err)
	}
}

// TestNoCases: a spec whose patterns select nothing, for the mode, is an
// error the tool can report apart.
func TestNoCases(t *testing.T) {
	spec := &ClientSpec{Servers: []ServerEntry{{URL: "ws://127.0.0.1:1"}}, Cases: []string{"*"}, ExcludeCases: []string{"*"}}
	if _, err := RunFuzzingClient(context.Background(), spec, nil); !errors.Is(err, ErrNoCases) {
		t.Errorf("RunFuzzingClient with no case: %v, want ErrNoCases", err)
	}
	if _, err := NewFuzzingServer(&ServerSpec{Cases: []string{"1.1.1"}, ExcludeCases: []string{"1.*"}}, nil); !errors.Is(err, ErrNoCases) {
		t.Errorf("NewFuzzingServer with no case: %v, want ErrNoCases", err)
	}
}
