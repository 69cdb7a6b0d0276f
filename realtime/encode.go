package realtime

import (
	"encoding/json"
	"slices"

	"github.com/wirelevel/ws/realtime/engine"
	"github.com/wirelevel/ws/realtime/engineio"
	"github.com/wirelevel/ws/realtime/socketio"
)

// engineWrite is the write of packets that are neither volatile nor
// uncompressed: CONNECT, DISCONNECT, acknowledgements.
var engineWrite engine.WriteOptions

// writeOptions turns broadcast flags into a session write's.
func writeOptions(f BroadcastFlags) engine.WriteOptions {
	return engine.WriteOptions{Volatile: f.Volatile, NoCompress: f.NoCompress}
}

// encodePacket encodes a Socket.IO packet as the Engine.IO messages that
// carry it: its text form as a message packet, then one binary message per
// attachment.
func encodePacket(p *socketio.Packet) []engine.Encoded {
	text := make([]byte, 1, 9+len(p.Namespace)+len(p.Data))
	text[0] = '0' + byte(engineio.Message)
	text = socketio.AppendPacket(text, p)
	msgs := make([]engine.Encoded, 1, 1+len(p.Attachments))
	msgs[0] = engine.TextPacket(text)
	for _, a := range p.Attachments {
		msgs = append(msgs, engine.BinaryPacket(a)) // attachments are copies already
	}
	return msgs
}

// encodeEvent encodes an event, with an acknowledgement id if hasID.
// Attachments are copied, so the caller may reuse its buffers.
func encodeEvent(nsp, event string, args []any, id uint64, hasID bool) (*socketio.Packet, error) {
	data, atts, err := socketio.AppendEvent(nil, nil, event, args...)
	if err != nil {
		return nil, err
	}
	p := &socketio.Packet{Type: socketio.Event, Namespace: nsp, HasID: hasID, ID: id, Data: data, Attachments: copyAll(atts)}
	if len(atts) > 0 {
		p.Type = socketio.BinaryEvent
	}
	return p, nil
}

func encodeConnectError(nsp string, ce *ConnectError) []engine.Encoded {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{ce.Message, ce.Data}
	data, err := json.Marshal(body)
	if err != nil {
		data, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{ce.Message})
	}
	return encodePacket(&socketio.Packet{Type: socketio.ConnectError, Namespace: nsp, Data: data})
}

func copyAll(atts [][]byte) [][]byte {
	for i, a := range atts {
		atts[i] = slices.Clone(a)
	}
	return atts
}
