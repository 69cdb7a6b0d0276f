//go:build !js

package conn_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/handshake"
)

// An echo server inside an http.Handler, and a client that talks to it.
// The read loop reuses one buffer; see the ReadMessage example for handing
// a message to another goroutine.
func ExampleAccept() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := conn.Accept(w, r, &conn.AcceptOptions{
			Subprotocols: []string{"echo.v1"},
			Compression:  &conn.CompressionOptions{}, // permessage-deflate when offered
		})
		if err != nil {
			return // Accept has answered with the status the failure calls for
		}
		defer c.CloseNow()
		// Read with a context of the connection's own, not r.Context(),
		// which is cancelled when the handler returns (see the package
		// doc, Reading: buffers and contexts).
		ctx := context.Background()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(ctx, buf)
			if err != nil {
				return // a *conn.CloseError when the peer closed
			}
			if err := c.WriteMessage(ctx, typ, msg); err != nil {
				return
			}
			buf = msg // reuse the memory for the next message
		}
	})
	s := httptest.NewServer(h)
	defer s.Close()

	ctx := context.Background()
	c, err := conn.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &conn.DialOptions{Subprotocols: []string{"echo.v1"}})
	if err != nil {
		panic(err)
	}
	c.WriteMessage(ctx, conn.Text, []byte("hello"))
	_, msg, err := c.ReadMessage(ctx, nil)
	fmt.Printf("%s %v, subprotocol %s\n", msg, err, c.Subprotocol())
	fmt.Println(c.Close(conn.CloseNormalClosure, "done"))
	// Output:
	// hello <nil>, subprotocol echo.v1
	// <nil>
}

// Dial returns the Conn; the server's answer to the handshake, with its
// header fields, is c.Response(). A refusal is a *handshake.StatusError in
// the error, with the status, header fields and the start of the body.
func ExampleDial() {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		c, err := conn.Accept(w, r, &conn.AcceptOptions{Header: http.Header{"X-Session": {"42"}}})
		if err != nil {
			return
		}
		c.Close(conn.CloseNormalClosure, "")
	}))
	defer s.Close()
	url := "ws" + strings.TrimPrefix(s.URL, "http")
	ctx := context.Background()

	_, err := conn.Dial(ctx, url, nil)
	var se *handshake.StatusError
	if errors.As(err, &se) {
		fmt.Printf("refused: %d %q\n", se.Status, bytes.TrimSpace(se.Body))
	}

	c, err := conn.Dial(ctx, url, &conn.DialOptions{
		Header: http.Header{"Authorization": {"Bearer secret"}},
	})
	if err != nil {
		panic(err)
	}
	defer c.CloseNow()
	resp := c.Response()
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Session"))
	// Output:
	// refused: 401 "who are you?"
	// 101 42
}

// ReadMessage reads into the buffer it is given and returns the message in
// it, so the result aliases that buffer: a loop that reuses it must copy a
// message it hands to another goroutine (or read into nil, which gives
// each message memory of its own).
func ExampleConn_ReadMessage() {
	ctx := context.Background()
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	for _, m := range []string{"one", "two", "three"} {
		cli.WriteMessage(ctx, conn.Text, []byte(m))
	}
	go cli.Close(conn.CloseNormalClosure, "") // returns once the server answers

	out := make(chan []byte, 3)
	var buf []byte
	for {
		_, msg, err := srv.ReadMessage(ctx, buf)
		if err != nil {
			fmt.Println("end:", conn.CloseStatus(err))
			break
		}
		out <- bytes.Clone(msg) // the next ReadMessage overwrites msg
		buf = msg
	}
	close(out)
	for m := range out {
		fmt.Printf("%s ", m)
	}
	fmt.Println()
	// Output:
	// end: 1000 normal closure
	// one two three
}

// NextWriter streams a message: it goes out as fragments as the write
// buffer fills, and ends when the writer is closed.
func ExampleConn_NextWriter() {
	ctx := context.Background()
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	w, err := srv.NextWriter(ctx, conn.Text)
	if err != nil {
		panic(err)
	}
	for i := range 3 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	_, msg, err := cli.ReadMessage(ctx, nil)
	fmt.Printf("%q %v\n", msg, err)
	// Output: "line 0\nline 1\nline 2\n" <nil>
}

// A Group holds a server's connections: Broadcast reaches all of them, and
// Shutdown closes them all with 1001 (going away).
func ExampleGroup() {
	ctx := context.Background()
	var g conn.Group
	var clients []*conn.Conn
	for range 2 {
		srv, cli := conn.Pipe(nil, nil)
		defer cli.CloseNow()
		g.Add(srv)
		clients = append(clients, cli)
		go func() { // a client that reads until the server closes
			for {
				if _, _, err := cli.ReadMessage(ctx, nil); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("members:", g.Len())
	err := g.Shutdown(ctx, "restarting")
	fmt.Println("shut down:", err, "members:", g.Len())
	for _, c := range clients {
		<-c.Done()
		fmt.Println(c.Err())
	}
	// Output:
	// members: 2
	// shut down: <nil> members: 0
	// conn: peer closed the connection: 1001 going away: "restarting"
	// conn: peer closed the connection: 1001 going away: "restarting"
}

// A Poller serves connections without a goroutine per idle one: it calls
// OnMessage as messages arrive. Replies queued with QueueMessage leave in
// one write before the connection goes idle again.
func ExamplePoller() {
	ctx := context.Background()
	p, err := conn.NewPoller()
	if err != nil {
		panic(err)
	}
	defer p.Close()
	srv, cli := conn.Pipe(nil, nil) // a TCP Conn from Accept is served the same way
	defer cli.CloseNow()
	closed := make(chan error, 1)
	err = p.Add(srv, conn.PollHandler{
		OnMessage: func(c *conn.Conn, typ conn.MessageType, p []byte) {
			c.QueueMessage(typ, bytes.ToUpper(p)) // p is valid only until OnMessage returns
		},
		OnClose: func(c *conn.Conn, err error) { closed <- err },
	})
	if err != nil {
		panic(err)
	}
	for _, m := range []string{"hello", "poller"} {
		cli.WriteMessage(ctx, conn.Text, []byte(m))
		_, msg, _ := cli.ReadMessage(ctx, nil)
		fmt.Printf("%s\n", msg)
	}
	cli.Close(conn.CloseNormalClosure, "bye")
	fmt.Println(conn.CloseStatus(<-closed))
	// Output:
	// HELLO
	// POLLER
	// 1000 normal closure
}

// CloseStatus reads the code of the peer's close frame from an error; it
// is 0 for errors that do not come from the peer's close, such as a
// context of ours or this side's own Close.
func ExampleCloseStatus() {
	ctx := context.Background()
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	go cli.Close(4000, "session expired") // an application's code

	_, _, err := srv.ReadMessage(ctx, nil)
	switch conn.CloseStatus(err) {
	case conn.CloseNormalClosure, conn.CloseGoingAway:
		fmt.Println("peer left")
	case 4000:
		var ce *conn.CloseError
		errors.As(err, &ce)
		fmt.Printf("peer closed with %d: %s\n", ce.Code, ce.Reason)
	}

	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	a, b := conn.Pipe(nil, nil)
	defer a.CloseNow()
	defer b.CloseNow()
	_, _, err = a.ReadMessage(short, nil)
	fmt.Println(conn.CloseStatus(err), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// peer closed with 4000: session expired
	// 0 true
}

// OnPongReceived reports every pong with the round-trip time of the ping
// it answers; WritePing sends a ping without waiting for it.
func ExampleOptions_OnPongReceived() {
	ctx := context.Background()
	rtts := make(chan time.Duration, 1)
	srv, cli := conn.Pipe(&conn.Options{
		OnPongReceived: func(c *conn.Conn, payload []byte, rtt time.Duration) { rtts <- rtt },
	}, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	go srv.ReadMessage(ctx, nil) // pongs are read by the reader
	go cli.ReadMessage(ctx, nil) // and so are the pings they answer
	if err := srv.WritePing(ctx, []byte("t1")); err != nil {
		panic(err)
	}
	fmt.Println("measured:", <-rtts > 0)
	// Output: measured: true
}

// CheckOrigin decides which cross-origin requests to accept, as
// gorilla's Upgrader.CheckOrigin does, and OnReject writes the refusal
// (any refusal: a bad Origin, a bad request, OnRequest's error), as
// gorilla's Upgrader.Error does.
func ExampleAcceptOptions_checkOrigin() {
	opts := &conn.AcceptOptions{
		CheckOrigin: func(r *http.Request) bool {
			return r.Header.Get("Origin") == "https://app.example"
		},
		OnReject: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			w.WriteHeader(status)
			fmt.Fprintf(w, "refused (%d)", status)
		},
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := conn.Accept(w, r, opts)
		if err != nil {
			return // OnReject has answered
		}
		c.Close(conn.CloseNormalClosure, "")
	}))
	defer s.Close()
	url := "ws" + strings.TrimPrefix(s.URL, "http")
	for _, origin := range []string{"https://app.example", "https://elsewhere.example"} {
		c, err := conn.Dial(context.Background(), url, &conn.DialOptions{Origin: origin})
		var se *handshake.StatusError
		switch {
		case err == nil:
			fmt.Println(origin, "accepted")
			c.CloseNow()
		case errors.As(err, &se):
			fmt.Printf("%s: %d %s\n", origin, se.Status, se.Body)
		}
	}
	// Output:
	// https://app.example accepted
	// https://elsewhere.example: 403 refused (403)
}

// countingConn counts the bytes read from the network.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// With permessage-deflate negotiated, every message is compressed (above
// CompressionOptions.Threshold) unless EnableWriteCompression(false)
// turns compression off for the connection, or the message type carries
// the Uncompressed flag for one message.
func ExampleConn_EnableWriteCompression() {
	ctx := context.Background()
	msg := bytes.Repeat([]byte("a very compressible message. "), 100)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := conn.Accept(w, r, &conn.AcceptOptions{Compression: &conn.CompressionOptions{}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.WriteMessage(ctx, conn.Text, msg)                   // compressed
		c.ReadMessage(ctx, nil)                               // (one message at a time, for the count below)
		c.WriteMessage(ctx, conn.Text|conn.Uncompressed, msg) // this one is not
		c.ReadMessage(ctx, nil)
		c.EnableWriteCompression(false)
		c.WriteMessage(ctx, conn.Text, msg) // nor any from now on
		c.ReadMessage(ctx, nil)
	}))
	defer s.Close()

	var wire atomic.Int64
	c, err := conn.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http"), &conn.DialOptions{
		Compression: &conn.CompressionOptions{},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			return countingConn{nc, &wire}, err
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.CloseNow()
	fmt.Println(c.Extensions())
	for range 3 {
		before := wire.Load()
		_, got, err := c.ReadMessage(ctx, nil)
		fmt.Printf("%d bytes, %v, compressed on the wire: %v\n", len(got), err, wire.Load()-before < int64(len(msg)))
		c.WriteMessage(ctx, conn.Text, []byte("next"))
	}
	c.Close(conn.CloseNormalClosure, "")
	// Output:
	// permessage-deflate
	// 2900 bytes, <nil>, compressed on the wire: true
	// 2900 bytes, <nil>, compressed on the wire: false
	// 2900 bytes, <nil>, compressed on the wire: false
}

// NetConn carries a byte stream over the messages of a Conn, for a
// protocol that wants a net.Conn; each Write is one message, and Read
// ignores message boundaries. A close with 1000 from the peer reads as
// io.EOF.
func ExampleNetConn() {
	ctx := context.Background()
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	go func() {
		nc := conn.NetConn(ctx, cli, conn.Binary)
		fmt.Fprintf(nc, "HELLO 1\r\n")
		fmt.Fprintf(nc, "HELLO ")
		fmt.Fprintf(nc, "2\r\n")
		nc.Close() // the closing handshake, with 1000
	}()
	s := bufio.NewScanner(conn.NetConn(ctx, srv, conn.Binary))
	for s.Scan() { // lines, whatever the messages that carried them
		fmt.Printf("%q\n", s.Text())
	}
	fmt.Println("end:", s.Err()) // nil: the stream ended with io.EOF
	// Output:
	// "HELLO 1"
	// "HELLO 2"
	// end: <nil>
}
