// Package loadgen is the one load generator every server is measured with: a
// raw TCP client that does the opening handshake itself (with package
// handshake), writes pre-built masked frames and counts the frames the server
// sends back. It never validates what the server sends beyond what counting
// needs, except in verify mode, which the smoke tests use.
package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wirelevel/ws/handshake"
)

// Offers of permessage-deflate (RFC 7692).
const (
	// DeflateNoContext asks for no context takeover in both directions, so
	// frames compressed once stay valid and every echo inflates on its own.
	DeflateNoContext = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
	// DeflateContext is the offer browsers make; the server may keep its
	// compression context across messages.
	DeflateContext = "permessage-deflate; client_max_window_bits"
)

// Conn is a client connection whose opening handshake is done.
type Conn struct {
	nc   net.Conn
	rest []byte // bytes the server sent after its 101

	// Deflate reports whether the server accepted permessage-deflate.
	Deflate bool
	// Extensions is the server's Sec-WebSocket-Extensions, as parsed.
	Extensions []handshake.Extension
}

// Dial connects to addr and does the opening handshake for path, offering
// extensions if not empty. It sends a same-origin Origin header, as a
// browser would (x/net's websocket.Handler refuses requests without one).
func Dial(ctx context.Context, addr, path, extensions string) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen: dial: %w", err)
	}
	c, err := handshakeConn(nc, addr, path, extensions)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func handshakeConn(nc net.Conn, addr, path, extensions string) (*Conn, error) {
	hc := &handshake.Client{Host: addr, Target: path, Origin: "http://" + addr, Extensions: extensions}
	key := handshake.NewKey()
	req, err := hc.AppendRequest(nil, key)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write(req); err != nil {
		return nil, fmt.Errorf("loadgen: write handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := handshake.ReadResponse(br, handshake.Limits{})
	if err != nil {
		return nil, err
	}
	_, exts, err := hc.Check(resp, key)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	c := &Conn{nc: nc, Extensions: exts}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		c.rest = append([]byte(nil), b...)
	}
	for _, e := range exts {
		c.Deflate = c.Deflate || e.Name == "permessage-deflate"
	}
	if extensions != "" && !c.Deflate {
		return nil, errors.New("loadgen: server did not accept permessage-deflate")
	}
	return c, nil
}

// NetConn returns the TCP connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection at once, with a reset rather than a FIN, so
// that runs with thousands of connections leave no TIME_WAIT behind.
func (c *Conn) Close() error {
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	return c.nc.Close()
}

// DialN opens n connections with up to par handshakes at once, and runs each,
// if set, on every connection once it is open.
func DialN(ctx context.Context, n, par int, addr, path, extensions string, each func(*Conn) error) ([]*Conn, error) {
	conns := make([]*Conn, n)
	errs := make(chan error, par)
	next := make(chan int)
	for range par {
		go func() {
			var first error
			for i := range next {
				if first != nil {
					continue
				}
				conns[i], first = Dial(ctx, addr, path, extensions)
				if first == nil && each != nil {
					first = each(conns[i])
				}
			}
			errs <- first
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	var err error
	for range par {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		CloseAll(conns)
		return nil, err
	}
	return conns, nil
}

// CloseAll closes every non-nil connection.
func CloseAll(conns []*Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
