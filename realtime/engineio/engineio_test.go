package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Packet
	}{
		{"open", `0{"sid":"x"}`, Packet{Type: Open, Data: []byte(`{"sid":"x"}`)}},
		{"close", "1", Packet{Type: Close, Data: []byte{}}},
		{"ping", "2", Packet{Type: Ping, Data: []byte{}}},
		{"probe ping", "2probe", Packet{Type: Ping, Data: []byte("probe")}},
		{"probe pong", "3probe", Packet{Type: Pong, Data: []byte("probe")}},
		{"message", "4hello", Packet{Type: Message, Data: []byte("hello")}},
		{"empty message", "4", Packet{Type: Message, Data: []byte{}}},
		{"utf-8 message", "4€", Packet{Type: Message, Data: []byte("€")}},
		{"upgrade", "5", Packet{Type: Upgrade, Data: []byte{}}},
		{"noop", "6", Packet{Type: Noop, Data: []byte{}}},
		{"binary", "bAQIDBA==", Packet{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true}},
		{"empty binary", "b", Packet{Type: Message, Data: []byte{}, Binary: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePacket([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParsePacket(%q) error %v", tt.in, err)
			}
			if got.Type != tt.want.Type || got.Binary != tt.want.Binary || !bytes.Equal(got.Data, tt.want.Data) {
				t.Fatalf("ParsePacket(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if back := AppendPacket(nil, got); string(back) != tt.in {
				t.Errorf("AppendPacket(ParsePacket(%q)) = %q", tt.in, back)
			}
		})
	}
}

func TestParsePacketErrors(t *testing.T) {
	for _, in := range []string{"", "7", "9", "x", "/", "b!!!!", "bAQI", "b====", " 4"} {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			if p, err := ParsePacket([]byte(in)); !errors.Is(err, ErrBadPacket) {
				t.Errorf("ParsePacket(%q) = %+v, %v; want ErrBadPacket", in, p, err)
			}
		})
	}
}

// The payload example of the Engine.IO protocol v4, section "Packet
// encoding / HTTP long-polling": "hello", "€" and the bytes 1 2 3 4.
const specPayload = "4hello\x1e4€\x1ebAQIDBA=="

func TestPayload(t *testing.T) {
	packets := []Packet{
		{Type: Message, Data: []byte("hello")},
		{Type: Message, Data: []byte("€")},
		{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true},
	}
	if got := AppendPayload(nil, packets); string(got) != specPayload {
		t.Errorf("AppendPayload = %q, want %q", got, specPayload)
	}
	tests := []struct {
		name string
		in   string
		want []string // AppendPacket of each packet
	}{
		{"spec example", specPayload, []string{"4hello", "4€", "bAQIDBA=="}},
		{"single", "2", []string{"2"}},
		{"pong and message", "3\x1e40", []string{"3", "40"}},
		{"open", `0{"sid":"a"}`, []string{`0{"sid":"a"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := ParsePayload([]byte(tt.in), 0, func(p Packet) error {
				got = append(got, string(AppendPacket(nil, p)))
				return nil
			})
			if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("ParsePayload(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPayloadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
	}{
		{"empty", "", 0},
		{"trailing separator", "4a\x1e", 0},
		{"empty middle packet", "4a\x1e\x1e4b", 0},
		{"invalid utf-8", "4\xff\xfe", 0},
		{"bad type", "4a\x1e9", 0},
		{"bad base64", "4a\x1eb%%", 0},
		{"too many packets", "2\x1e2\x1e2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParsePayload([]byte(tt.in), tt.max, func(Packet) error { return nil })
			if !errors.Is(err, ErrBadPacket) {
				t.Errorf("ParsePayload(%q) = %v, want ErrBadPacket", tt.in, err)
			}
		})
	}
	stop := errors.New("stop")
	n := 0
	err := ParsePayload([]byte("2\x1e2\x1e2"), 0, func(Packet) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("ParsePayload with a failing callback = %v after %d packets, want stop after 1", err, n)
	}
}

func TestHandshake(t *testing.T) {
	h := Handshake{SID: "lv_VI97HAXpY6yYWAAAC", Upgrades: []string{"websocket"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000}
	const want = `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	got := AppendOpen(nil, h)
	if string(got) != want {
		t.Fatalf("AppendOpen = %s, want %s", got, want)
	}
	back, err := ParseHandshake(got[1:])
	if err != nil || back.SID != h.SID || back.PingInterval != 25000 || back.MaxPayload != 1000000 {
		t.Errorf("ParseHandshake = %+v, %v", back, err)
	}
	if got := AppendOpen(nil, Handshake{SID: "a", PingInterval: 1, PingTimeout: 1}); !bytes.Contains(got, []byte(`"upgrades":[]`)) {
		t.Errorf("AppendOpen with no upgrades = %s, want an empty array", got)
	}
	for _, bad := range []string{`{}`, `{"sid":"a"}`, `{"sid":"","pingInterval":1,"pingTimeout":1}`, `[`, `null`} {
		if _, err := ParseHandshake([]byte(bad)); !errors.Is(err, ErrBadPacket) {
			t.Errorf("ParseHandshake(%s) = %v, want ErrBadPacket", bad, err)
		}
	}
}

func TestAppendError(t *testing.T) {
	tests := []struct {
		code   ErrorCode
		want   string
		status int
	}{
		{UnknownTransport, `{"code":0,"message":"Transport unknown"}`, 400},
		{UnknownSID, `{"code":1,"message":"Session ID unknown"}`, 400},
		{BadHandshakeMethod, `{"code":2,"message":"Bad handshake method"}`, 400},
		{BadRequest, `{"code":3,"message":"Bad request"}`, 400},
		{Forbidden, `{"code":4,"message":"Forbidden"}`, 403},
		{UnsupportedVersion, `{"code":5,"message":"Unsupported protocol version"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			if got := AppendError(nil, tt.code); string(got) != tt.want {
				t.Errorf("AppendError(%d) = %s, want %s", tt.code, got, tt.want)
			}
			if s := tt.code.Status(); s != tt.status {
				t.Errorf("Status(%d) = %d, want %d", tt.code, s, tt.status)
			}
		})
	}
}

func ExampleAppendPayload() {
	b := AppendPayload(nil, []Packet{
		{Type: Message, Data: []byte("hello")},
		{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true},
	})
	fmt.Printf("%q\n", b)
	// Output: "4hello\x1ebAQIDBA=="
}
