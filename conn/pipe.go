//go:build !js

package conn

import "github.com/wirelevel/ws/internal/pipe"

// Pipe returns a connected pair of Conns, server and client, over an
// in-memory connection: no sockets, no handshake. It is meant for tests of
// code that uses this package. The in-memory connection buffers up to 256 KiB
// in each direction, so a write does not need a concurrent read as with
// net.Pipe, and it supports deadlines and half-close.
func Pipe(server, client *Options) (*Conn, *Conn) {
	a, b := pipe.New()
	return Server(a, nil, server), Client(b, nil, client)
}
