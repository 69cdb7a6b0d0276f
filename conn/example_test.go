//go:build !js

package conn_test

import (
	"context"
	"fmt"

	"github.com/wirelevel/ws/conn"
)

// A broadcast is encoded once and queued on every member; it returns
// without waiting for any member's socket, so a member that stops reading
// holds up nobody.
func ExampleGroup_Broadcast() {
	ctx := context.Background()
	var g conn.Group
	var clients []*conn.Conn
	for range 3 {
		srv, cli := conn.Pipe(nil, nil)
		defer srv.CloseNow()
		defer cli.CloseNow()
		g.Add(srv)
		clients = append(clients, cli)
	}
	pm, err := conn.NewPreparedMessage(conn.Text, []byte("hello, everyone"))
	if err != nil {
		panic(err)
	}
	n, err := g.Broadcast(ctx, pm)
	fmt.Println("queued on", n, "members:", err)
	for _, c := range clients {
		_, msg, err := c.ReadMessage(ctx, nil)
		fmt.Printf("%s %v\n", msg, err)
	}
	// Output:
	// queued on 3 members: <nil>
	// hello, everyone <nil>
	// hello, everyone <nil>
	// hello, everyone <nil>
}

// Replies queued with QueueMessage leave together, in one write, on Flush
// (or before the reader next waits). Uncompressed sends one of them without
// permessage-deflate, for a payload that is compressed already.
func ExampleConn_QueueMessage() {
	ctx := context.Background()
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	srv.QueueMessage(conn.Text, []byte("first"))
	srv.QueueMessage(conn.Binary|conn.Uncompressed, []byte{0xff, 0xd8, 0xff}) // a JPEG, say
	fmt.Println("waiting:", srv.BufferedAmount(), "bytes")
	if err := srv.Flush(ctx); err != nil {
		panic(err)
	}
	fmt.Println("waiting:", srv.BufferedAmount(), "bytes")
	for range 2 {
		typ, msg, _ := cli.ReadMessage(ctx, nil)
		fmt.Println(typ, len(msg))
	}
	// Output:
	// waiting: 12 bytes
	// waiting: 0 bytes
	// text 5
	// binary 3
}
