package socketio

import (
	"encoding/json"
	"testing"
)

// FuzzDecoder feeds text packets, and binary messages after them, to a
// Decoder: it must never panic, and every packet it returns must parse into
// arguments that agree with encoding/json.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		`0`, `0/admin,{"token":"1"}`, `2["hello",1]`, `2/admin,456["a",{"b":[1,"]"]}]`, `3/admin,456[]`,
		`51-["up",{"_placeholder":true,"num":0}]`, `61-/a,4[{"_placeholder":true,"num":0}]`, `2[42,"x\"y"]`,
		`4{"message":"no"}`, `1/x,`, `2["a" , [ ] , { } ]`,
	} {
		f.Add([]byte(s), []byte{1, 2})
	}
	f.Fuzz(func(t *testing.T, text, bin []byte) {
		var d Decoder
		p, err := d.Text(text)
		if err != nil {
			return
		}
		for i := 0; p == nil && i < DefaultMaxAttachments; i++ {
			if p, err = d.Binary(bin); err != nil {
				return
			}
		}
		if p == nil {
			t.Fatalf("no packet after %d attachments for %q", DefaultMaxAttachments, text)
		}
		switch p.Type {
		case Event, BinaryEvent, Ack, BinaryAck:
			a, err := ParseArgs(p)
			if err != nil {
				t.Fatalf("ParseArgs(%q) after a successful decode: %v", p.Data, err)
			}
			var want []json.RawMessage
			if err := json.Unmarshal(p.Data, &want); err != nil || len(want) != a.Len() {
				t.Fatalf("ParseArgs(%q) gave %d args, encoding/json %d (%v)", p.Data, a.Len(), len(want), err)
			}
			for i := range want {
				if string(trimSpace(want[i])) != string(a.Raw(i)) {
					t.Fatalf("arg %d of %q = %q, encoding/json says %q", i, p.Data, a.Raw(i), want[i])
				}
				a.Value(i)
				a.String(i)
			}
			if p.Type == Event || p.Type == BinaryEvent {
				if _, _, err := ParseEvent(p); err != nil {
					t.Fatalf("ParseEvent(%q) after a successful decode: %v", p.Data, err)
				}
			}
		}
	})
}
