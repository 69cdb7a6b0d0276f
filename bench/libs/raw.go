package libs

import (
	"bufio"
	"errors"
	"net"
	"net/http"

	"github.com/gobwas/ws"
	"github.com/lxzan/gws"

	"github.com/wirelevel/ws/handshake"
)

// Servers on a raw listener, without net/http: the peers' own serving
// models, for the connection-storm workload, where net/http's cost per
// connection is what they avoid.

// gobwasRaw is gobwas's zero-copy upgrade, ws.Upgrader on the raw
// connection, the serving model its README leads with for many
// connections.
var gobwasRaw = &Lib{
	Name:   "gobwas-raw",
	Peer:   true,
	Raw:    true,
	Module: "github.com/gobwas/ws v1.5.0",
	API:    "ws.Upgrader.Upgrade on a raw listener (no net/http); otherwise as gobwas",
	UTF8:   true,
	newServer: func() *Server {
		h := &gobwasHub{}
		return &Server{Hub: h, Serve: func(ln net.Listener) error {
			return serveEach(ln, func(nc net.Conn) {
				var path string
				up := ws.Upgrader{OnRequest: func(uri []byte) error {
					path = string(uri)
					return nil
				}}
				if _, err := up.Upgrade(nc); err != nil {
					nc.Close()
					return
				}
				if path == "/broadcast" {
					h.serve(nc)
				} else {
					gobwasEcho(nc)
				}
			})
		}}
	},
}

// gwsRaw is gws's own server, gws.Server.RunListener, which reads the
// request with http.ReadRequest on the raw connection.
var gwsRaw = &Lib{
	Name:   "gws-raw",
	Peer:   true,
	Raw:    true,
	Module: "github.com/lxzan/gws v1.8.9",
	API:    "gws.NewServer(…).RunListener (its own listener loop, no net/http server); otherwise as gws",
	UTF8:   false,
	newServer: func() *Server {
		h := &gwsHub{}
		echo := gws.NewUpgrader(gwsEcho{}, gwsOptions(nil))
		bcast := gws.NewUpgrader(h, gwsOptions(nil))
		srv := gws.NewServer(gwsEcho{}, gwsOptions(nil))
		srv.OnRequest = func(nc net.Conn, br *bufio.Reader, r *http.Request) {
			up := echo
			if r.URL.Path == "/broadcast" {
				up = bcast
			}
			c, err := up.UpgradeFromConn(nc, br, r)
			if err != nil {
				nc.Close()
				return
			}
			c.ReadLoop()
		}
		srv.OnError = func(net.Conn, error) {}
		return &Server{Hub: h, Serve: srv.RunListener}
	},
}

// tcpEchoBuffer is the raw TCP echo's buffer: as large as the largest
// message, so that it needs no more system calls than the socket makes it.
const tcpEchoBuffer = 1 << 20

// tcpLib is no WebSocket library: after the opening handshake (answered
// with package handshake) it echoes the bytes it reads, frames and all,
// with one read and one write at a time into a 1 MiB buffer. It is the
// physical limit of the machine for the echo workloads: what a server that
// neither parses, unmasks nor validates could do. Its echoes are the
// client's masked frames.
var tcpLib = &Lib{
	Name:     "tcp",
	Baseline: true,
	Default:  true,
	Module:   "net (standard library)",
	API:      "raw TCP echo after the handshake: Read into a 1 MiB buffer, Write what was read",
	newServer: func() *Server {
		return &Server{Hub: noHub{}, Serve: func(ln net.Listener) error { return serveEach(ln, tcpEcho) }}
	},
}

func tcpEcho(nc net.Conn) {
	defer nc.Close()
	srv := handshake.Server{InsecureSkipOriginCheck: true}
	req, rest, err := srv.ReadRequest(nc)
	if err != nil {
		return
	}
	var up handshake.Upgrade
	if srv.Check(req, &up) != nil {
		return
	}
	resp, err := up.AppendResponse(nil)
	if err != nil {
		return
	}
	if _, err := nc.Write(resp); err != nil {
		return
	}
	if len(rest) > 0 {
		if _, err := nc.Write(rest); err != nil {
			return
		}
	}
	buf := make([]byte, tcpEchoBuffer)
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			if _, err := nc.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// noHub is the Hub of a server without broadcast connections.
type noHub struct{}

func (noHub) Len() int { return 0 }

func (noHub) Broadcast([]byte) error { return errors.New("libs: this server does not broadcast") }

// serveEach accepts connections on ln until it fails and serves each on a
// goroutine of its own.
func serveEach(ln net.Listener, serve func(net.Conn)) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		go serve(nc)
	}
}
