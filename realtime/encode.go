package realtime

import (
	"encoding/json"
	"slices"

	"github.com/wirelevel/ws/realtime/engineio"
	"github.com/wirelevel/ws/realtime/socketio"
)

// encodePacket encodes a Socket.IO packet as the Engine.IO messages that
// carry it: its text form as a message packet, then one binary message per
// attachment.
func encodePacket(p *socketio.Packet) []wireMsg {
	text := make([]byte, 0, 8+len(p.Namespace)+len(p.Data))
	text = append(text, '0'+byte(engineio.Message))
	text = socketio.AppendPacket(text, p)
	msgs := make([]wireMsg, 1, 1+len(p.Attachments))
	msgs[0] = wireMsg{data: text}
	for _, a := range p.Attachments {
		msgs = append(msgs, wireMsg{binary: true, data: a})
	}
	return msgs
}

// encodeEvent encodes an event, with an acknowledgement id if hasID.
// Attachments are copied, so the caller may reuse its buffers.
func encodeEvent(nsp, event string, args []any, id uint64, hasID bool) ([]wireMsg, error) {
	data, atts, err := socketio.AppendEvent(nil, nil, event, args...)
	if err != nil {
		return nil, err
	}
	p := &socketio.Packet{Type: socketio.Event, Namespace: nsp, HasID: hasID, ID: id, Data: data, Attachments: copyAll(atts)}
	if len(atts) > 0 {
		p.Type = socketio.BinaryEvent
	}
	return encodePacket(p), nil
}

func encodeConnectError(nsp string, ce *ConnectError) []wireMsg {
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
