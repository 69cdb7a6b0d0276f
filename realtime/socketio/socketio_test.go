package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// Examples from the Socket.IO protocol v5, section "Exchange protocol".
func TestPacketRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Packet
		atts int
	}{
		{"connect main", "0", Packet{Type: Connect}, 0},
		{"connect admin", "0/admin,", Packet{Type: Connect, Namespace: "/admin"}, 0},
		{"connect with auth", `0{"token":"123"}`, Packet{Type: Connect, Data: json.RawMessage(`{"token":"123"}`)}, 0},
		{"connect admin with auth", `0/admin,{"token":"123"}`, Packet{Type: Connect, Namespace: "/admin", Data: json.RawMessage(`{"token":"123"}`)}, 0},
		{"connect reply", `0{"sid":"oSO0OpakMV_3jnilAAAA"}`, Packet{Type: Connect, Data: json.RawMessage(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}, 0},
		{"disconnect", "1/admin,", Packet{Type: Disconnect, Namespace: "/admin"}, 0},
		{"event", `2["hello",1]`, Packet{Type: Event, Data: json.RawMessage(`["hello",1]`)}, 0},
		{"event with ack id", `2/admin,456["project:delete",123]`, Packet{Type: Event, Namespace: "/admin", HasID: true, ID: 456, Data: json.RawMessage(`["project:delete",123]`)}, 0},
		{"event with ack id 0", `20["a"]`, Packet{Type: Event, HasID: true, ID: 0, Data: json.RawMessage(`["a"]`)}, 0},
		{"numeric event name", `2[42,"x"]`, Packet{Type: Event, Data: json.RawMessage(`[42,"x"]`)}, 0},
		{"ack", `3/admin,456[]`, Packet{Type: Ack, Namespace: "/admin", HasID: true, ID: 456, Data: json.RawMessage(`[]`)}, 0},
		{"connect error", `4{"message":"Not authorized"}`, Packet{Type: ConnectError, Data: json.RawMessage(`{"message":"Not authorized"}`)}, 0},
		{"connect error string", `4/admin,"bad"`, Packet{Type: ConnectError, Namespace: "/admin", Data: json.RawMessage(`"bad"`)}, 0},
		{"binary event", `51-["hello",{"_placeholder":true,"num":0}]`, Packet{Type: BinaryEvent, Data: json.RawMessage(`["hello",{"_placeholder":true,"num":0}]`)}, 1},
		{"binary ack", `61-/admin,456[{"_placeholder":true,"num":0}]`, Packet{Type: BinaryAck, Namespace: "/admin", HasID: true, ID: 456, Data: json.RawMessage(`[{"_placeholder":true,"num":0}]`)}, 1},
		{"max ack id", `29007199254740991["a"]`, Packet{Type: Event, HasID: true, ID: 9007199254740991, Data: json.RawMessage(`["a"]`)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := ParsePacket([]byte(tt.in), DefaultMaxAttachments)
			if err != nil {
				t.Fatalf("ParsePacket(%q) error %v", tt.in, err)
			}
			if n != tt.atts || got.Type != tt.want.Type || got.Namespace != tt.want.Namespace ||
				got.HasID != tt.want.HasID || got.ID != tt.want.ID || !bytes.Equal(got.Data, tt.want.Data) {
				t.Fatalf("ParsePacket(%q) = %+v (%d attachments), want %+v (%d)", tt.in, got, n, tt.want, tt.atts)
			}
			got.Attachments = make([][]byte, n)
			if back := AppendPacket(nil, &got); string(back) != tt.in {
				t.Errorf("AppendPacket(ParsePacket(%q)) = %q", tt.in, back)
			}
		})
	}
}

func TestParsePacketErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrBadPacket},
		{"unknown type", "7", ErrBadPacket},
		{"letter type", "x", ErrBadPacket},
		{"event without data", "2", ErrBadPacket},
		{"event not an array", `2{"a":1}`, ErrBadPacket},
		{"event without name", `2[]`, ErrBadPacket},
		{"event name object", `2[{}]`, ErrBadPacket},
		{"reserved event name", `2["connect"]`, ErrBadPacket},
		{"reserved disconnecting", `2["disconnecting"]`, ErrBadPacket},
		{"invalid JSON", `2["a"`, ErrBadPacket},
		{"trailing garbage", `2["a"]x`, ErrBadPacket},
		{"disconnect with payload", `1{"a":1}`, ErrBadPacket},
		{"connect with array", `0[1]`, ErrBadPacket},
		{"connect with string", `0"x"`, ErrBadPacket},
		{"ack not an array", `31{}`, ErrBadPacket},
		{"connect error array", `4[]`, ErrBadPacket},
		{"binary without count", `5["a"]`, ErrBadPacket},
		{"binary without dash", `51["a"]`, ErrBadPacket},
		{"binary bad count", `5x-["a"]`, ErrBadPacket},
		{"too many attachments", `511-["a"]`, ErrTooManyAttachments},
		{"huge attachment count", `599999999999999999-["a"]`, ErrTooManyAttachments},
		{"ack id too long", `212345678901234567["a"]`, ErrBadPacket},
		{"namespace without data for event", `2/admin,`, ErrBadPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := ParsePacket([]byte(tt.in), DefaultMaxAttachments)
			if !errors.Is(err, tt.want) {
				t.Errorf("ParsePacket(%q) = %+v, %v; want %v", tt.in, p, err, tt.want)
			}
		})
	}
}

func TestDecoder(t *testing.T) {
	var d Decoder
	p, err := d.Text([]byte(`52-["up",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`))
	if p != nil || err != nil {
		t.Fatalf("Text(binary header) = %v, %v; want nil, nil (awaiting attachments)", p, err)
	}
	if p, err = d.Binary([]byte{1}); p != nil || err != nil {
		t.Fatalf("Binary(first of two) = %v, %v", p, err)
	}
	if p, err = d.Binary([]byte{2}); p == nil || err != nil {
		t.Fatalf("Binary(second of two) = %v, %v", p, err)
	}
	name, args, err := ParseEvent(p)
	if err != nil || name != "up" || args.Len() != 2 {
		t.Fatalf("ParseEvent = %q, %d args, %v", name, args.Len(), err)
	}
	var a, b []byte
	if args.Decode(0, &a); !bytes.Equal(a, []byte{2}) {
		t.Errorf("arg 0 = %v, want attachment 1 (02)", a)
	}
	if args.Decode(1, &b); !bytes.Equal(b, []byte{1}) {
		t.Errorf("arg 1 = %v, want attachment 0 (01)", b)
	}
	// A binary packet announcing no attachments is complete at once.
	if p, err := d.Text([]byte(`50-["x"]`)); p == nil || err != nil {
		t.Errorf("Text(0 attachments) = %v, %v", p, err)
	}
}

func TestDecoderErrors(t *testing.T) {
	tests := []struct {
		name  string
		steps []string // "t:..." text, "b:..." binary
		max   int
	}{
		{"binary without packet", []string{"b:x"}, 0},
		{"text while awaiting", []string{`t:51-["a",{"_placeholder":true,"num":0}]`, `t:2["b"]`}, 0},
		{"placeholder out of range", []string{`t:51-["a",{"_placeholder":true,"num":1}]`, "b:x"}, 0},
		{"placeholder negative", []string{`t:51-["a",{"_placeholder":true,"num":-1}]`, "b:x"}, 0},
		{"placeholder without num", []string{`t:51-["a",{"_placeholder":true}]`, "b:x"}, 0},
		{"placeholder num not integer", []string{`t:51-["a",{"_placeholder":true,"num":0.5}]`, "b:x"}, 0},
		{"over custom limit", []string{`t:53-["a"]`}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decoder{MaxAttachments: tt.max}
			var err error
			for _, s := range tt.steps {
				if s[0] == 't' {
					_, err = d.Text([]byte(s[2:]))
				} else {
					_, err = d.Binary([]byte(s[2:]))
				}
				if err != nil {
					break
				}
			}
			if !errors.Is(err, ErrBadPacket) && !errors.Is(err, ErrTooManyAttachments) {
				t.Errorf("steps %q: err = %v, want a malformed-packet error", tt.steps, err)
			}
		})
	}
}

func TestAppendArgs(t *testing.T) {
	tests := []struct {
		name string
		args []any
		want string
		atts [][]byte
	}{
		{"none", nil, `[]`, nil},
		{"scalars", []any{"a", 1, true, nil, 2.5}, `["a",1,true,null,2.5]`, nil},
		{"bytes", []any{[]byte{1, 2}}, `[{"_placeholder":true,"num":0}]`, [][]byte{{1, 2}}},
		{"nested bytes", []any{map[string]any{"z": []byte{3}, "a": []any{[]byte{4}, "x"}}}, `[{"a":[{"_placeholder":true,"num":0},"x"],"z":{"_placeholder":true,"num":1}}]`, [][]byte{{4}, {3}}},
		{"raw JSON kept", []any{json.RawMessage(`{"k":[1,2]}`)}, `[{"k":[1,2]}]`, nil},
		{"struct bytes are base64", []any{struct{ B []byte }{[]byte{255}}}, `[{"B":"/w=="}]`, nil},
		{"escaping", []any{"<\"\n>"}, `["\u003c\"\n\u003e"]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, atts, err := AppendArgs(nil, nil, tt.args...)
			if err != nil || string(got) != tt.want || !reflect.DeepEqual(atts, tt.atts) {
				t.Errorf("AppendArgs(%v) = %s %v, %v; want %s %v", tt.args, got, atts, err, tt.want, tt.atts)
			}
		})
	}
	if _, _, err := AppendArgs(nil, nil, func() {}); err == nil {
		t.Error("AppendArgs(func) succeeded, want an encoding error")
	}
	if _, _, err := AppendArgs(nil, nil, json.RawMessage(`{`)); err == nil {
		t.Error("AppendArgs(invalid RawMessage) succeeded")
	}
	if _, _, err := AppendEvent(nil, nil, "disconnect"); err == nil {
		t.Error("AppendEvent(reserved name) succeeded")
	}
}

// TestArgsRoundTrip encodes Go values as an event, parses the packet back
// and checks Values gives the same values, attachments included.
func TestArgsRoundTrip(t *testing.T) {
	args := []any{"s", json.Number("12345678901234567890"), []byte{0, 1}, Object{{"z", json.Number("1")}, {"deep", []any{[]byte("x"), true}}, {"a", Object{}}}, nil}
	data, atts, err := AppendEvent(nil, nil, "ev", args...)
	if err != nil {
		t.Fatal(err)
	}
	text := AppendPacket(nil, &Packet{Type: BinaryEvent, Namespace: "/n", HasID: true, ID: 7, Data: data, Attachments: atts})
	var d Decoder
	p, err := d.Text(text)
	for _, a := range atts {
		if err != nil {
			break
		}
		p, err = d.Binary(a)
	}
	if err != nil || p == nil {
		t.Fatalf("decoding %s: %v, %v", text, p, err)
	}
	name, got, err := ParseEvent(p)
	if err != nil || name != "ev" || p.Namespace != "/n" || p.ID != 7 {
		t.Fatalf("ParseEvent = %q, %v (packet %+v)", name, err, p)
	}
	vals, err := got.Values()
	if err != nil || !reflect.DeepEqual(vals, args) {
		t.Errorf("Values() = %#v, %v; want %#v", vals, err, args)
	}
	if s := got.String(0); s != "s" {
		t.Errorf("String(0) = %q", s)
	}
	if s := got.String(1); s != "" {
		t.Errorf("String(1) of a number = %q, want empty", s)
	}
	var st struct{ Deep []json.RawMessage }
	if err := got.Decode(3, &st); err != nil || len(st.Deep) != 2 || string(st.Deep[0]) != `"eA=="` {
		t.Errorf("Decode(3) = %s, %v; want the attachment as base64", st.Deep, err)
	}
	// Echoed back, the object keeps its keys in the order they came.
	echo, atts2, err := AppendArgs(nil, nil, vals...)
	if want := `["s",12345678901234567890,{"_placeholder":true,"num":0},{"z":1,"deep":[{"_placeholder":true,"num":1},true],"a":{}},null]`; err != nil || string(echo) != want || len(atts2) != 2 {
		t.Errorf("echo = %s (%d attachments), %v; want %s", echo, len(atts2), err, want)
	}
	if err := got.Decode(9, &st); !errors.Is(err, ErrNoArg) {
		t.Errorf("Decode(9) = %v, want ErrNoArg", err)
	}
}

func ExampleAppendEvent() {
	data, atts, _ := AppendEvent(nil, nil, "upload", "a.bin", []byte{1, 2, 3})
	p := &Packet{Type: BinaryEvent, Namespace: "/files", HasID: true, ID: 12, Data: data, Attachments: atts}
	fmt.Printf("%s + %d attachment\n", AppendPacket(nil, p), len(atts))
	// Output: 51-/files,12["upload","a.bin",{"_placeholder":true,"num":0}] + 1 attachment
}

func TestAppendArgsDate(t *testing.T) {
	d := time.Date(2026, 12, 1, 10, 0, 5, 123456789, time.FixedZone("x", 3600))
	got, _, err := AppendArgs(nil, nil, d, []any{time.Unix(0, 0)}, Object{{"at", time.Unix(1, 0)}})
	want := `["2026-12-01T09:00:05.123Z",["1970-01-01T00:00:00.000Z"],{"at":"1970-01-01T00:00:01.000Z"}]`
	if err != nil || string(got) != want {
		t.Errorf("AppendArgs(dates) = %s, %v; want %s", got, err, want)
	}
}
