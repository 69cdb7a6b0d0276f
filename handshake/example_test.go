package handshake_test

import (
	"fmt"
	"strings"

	"github.com/wirelevel/ws/handshake"
)

func ExampleAcceptKey() {
	// RFC 6455, Section 1.3.
	fmt.Println(handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	// Output: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

func ExampleRequest_Parse() {
	buf := []byte("GET /chat HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"\r\n" +
		"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58") // the client's first frame

	var req handshake.Request
	n, err := req.Parse(buf, handshake.Limits{})
	if err != nil || n == 0 {
		fmt.Println("need more bytes or reject:", err)
		return
	}
	srv := handshake.Server{Protocols: []string{"chat"}}
	var up handshake.Upgrade
	if err := srv.Check(&req, &up); err != nil {
		fmt.Println(err)
		return
	}
	resp, _ := up.AppendResponse(nil)
	for line := range strings.Lines(string(resp)) {
		fmt.Printf("%q\n", line)
	}
	fmt.Printf("rest: % x\n", buf[n:])
	// Output:
	// "HTTP/1.1 101 Switching Protocols\r\n"
	// "Upgrade: websocket\r\n"
	// "Connection: Upgrade\r\n"
	// "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	// "Sec-WebSocket-Protocol: chat\r\n"
	// "\r\n"
	// rest: 81 85 37 fa 21 3d 7f 9f 4d 51 58
}

func ExampleParseExtensions() {
	exts, err := handshake.ParseExtensions(`permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits="10"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range exts {
		fmt.Printf("%s %+v\n", e.Name, e.Params)
	}
	answer, _ := handshake.AppendExtensions(nil, exts[1:])
	fmt.Printf("%s\n", answer)
	// Output:
	// permessage-deflate [{Name:client_max_window_bits Value: HasValue:false}]
	// permessage-deflate [{Name:server_max_window_bits Value:10 HasValue:true}]
	// permessage-deflate; server_max_window_bits=10
}
