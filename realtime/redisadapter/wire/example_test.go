package wire_test

import (
	"fmt"

	"github.com/wirelevel/ws/realtime/redisadapter/wire"
	"github.com/wirelevel/ws/realtime/socketio"
)

// A broadcast as a Node node publishes it, decoded into the packet a
// realtime server sends its clients.
func ExampleParseBroadcast() {
	msg := []byte("\x93\xa6_b5Fhr\x83\xa4type\x02\xa4data\x92\xa2ev\xc4\x02\x01\x02\xa3nsp\xa1/\x83\xa5rooms\x91\xa2r1\xa6except\x90\xa5flags\x80")
	m, err := wire.ParseBroadcast(msg, nil)
	if err != nil {
		panic(err)
	}
	p, err := m.Packet.SocketIO(nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.UID, m.Opts.Rooms, p.Type, string(p.Data), p.Attachments)
	// Output: _b5Fhr [r1] BINARY_EVENT ["ev",{"_placeholder":true,"num":0}] [[1 2]]
}

// A realtime packet converted for publishing: binary placeholders become
// msgpack bin, integral numbers ints, as notepack.io writes them.
func ExampleFromSocketIO() {
	p, err := wire.FromSocketIO(&socketio.Packet{
		Type:        socketio.BinaryEvent,
		Data:        []byte(`["ev",1.0,2.5,{"_placeholder":true,"num":0}]`),
		Attachments: [][]byte{{9}},
	}, nil)
	if err != nil {
		panic(err)
	}
	b := wire.AppendBroadcast(nil, &wire.Broadcast{UID: "gonode", Packet: p})
	fmt.Printf("% x\n", b)
	// Output: 93 a6 67 6f 6e 6f 64 65 83 a4 74 79 70 65 02 a4 64 61 74 61 94 a2 65 76 01 cb 40 04 00 00 00 00 00 00 c4 01 09 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 80
}

// Responses carry every field a Node requester reads, even when empty.
func ExampleAppendResponse() {
	fmt.Println(string(wire.AppendResponse(nil, &wire.Response{Type: wire.RemoteFetch, RequestID: "sK8Uwe"})))
	fmt.Println(string(wire.AppendResponse(nil, &wire.Response{Type: wire.BroadcastClientCount, RequestID: "60_92n"})))
	// Output:
	// {"requestId":"sK8Uwe","sockets":[]}
	// {"type":8,"requestId":"60_92n","clientCount":0}
}
