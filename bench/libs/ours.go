package libs

import (
	"context"
	"net"
	"net/http"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/handshake"
)

var ours = &Lib{
	Name:    "ours",
	Default: true,
	Module:  "github.com/wirelevel/ws (this tree)",
	API:     "conn.Accept; ReadMessage into a reused buffer, QueueMessage (replies go out in one write when the next read would wait); broadcast with PreparedMessage and Group.Broadcast",
	UTF8:    true,
	Deflate: []string{"ctx", "noctx"},
	newServer: func() *Server {
		h := &oursHub{}
		return &Server{
			Handler: mux(
				oursHandler(nil, oursEcho),
				oursHandler(nil, h.serve),
				map[string]http.HandlerFunc{
					"ctx":   oursHandler(&conn.CompressionOptions{}, oursEcho),
					"noctx": oursHandler(&conn.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, oursEcho),
				}),
			Hub: h,
		}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) {
		c := conn.Server(nc, nil, oursOptions())
		ready()
		return oursCount(c)
	},
}

// oursPoll is this library with a conn.Poller reading the connections: no
// goroutine (and no buffer) per idle connection, the way the package
// recommends for servers holding many mostly idle connections.
var oursPoll = &Lib{
	Name:    "ours-poll",
	Default: true,
	Module:  "github.com/wirelevel/ws (this tree)",
	API:     "conn.Accept, then a conn.Poller whose OnMessage answers with QueueMessage (no goroutine per idle connection); broadcast as ours",
	UTF8:    true,
	Deflate: []string{"ctx", "noctx"},
	newServer: func() *Server {
		p, err := conn.NewPoller()
		if err != nil {
			panic(err)
		}
		h := &oursHub{}
		echo := conn.PollHandler{OnMessage: func(c *conn.Conn, typ conn.MessageType, msg []byte) {
			c.QueueMessage(typ, msg)
		}}
		sink := conn.PollHandler{OnMessage: func(*conn.Conn, conn.MessageType, []byte) {}}
		serveEcho := func(c *conn.Conn) {
			if p.Add(c, echo) != nil {
				c.CloseNow()
			}
		}
		serveHub := func(c *conn.Conn) {
			h.g.Add(c)
			if p.Add(c, sink) != nil {
				c.CloseNow()
			}
		}
		return &Server{
			Handler: mux(
				oursHandler(nil, serveEcho),
				oursHandler(nil, serveHub),
				map[string]http.HandlerFunc{
					"ctx":   oursHandler(&conn.CompressionOptions{}, serveEcho),
					"noctx": oursHandler(&conn.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, serveEcho),
				}),
			Hub: h,
		}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) { return ours.readPath(nc, ready) },
}

// oursRaw is this library without net/http: conn.Upgrade reads the request
// straight off the TCP connection.
var oursRaw = &Lib{
	Name:   "ours-raw",
	Module: "github.com/wirelevel/ws (this tree)",
	API:    "conn.Upgrade on a raw listener (no net/http); otherwise as ours",
	UTF8:   true,
	newServer: func() *Server {
		h := &oursHub{}
		return &Server{Hub: h, Serve: func(ln net.Listener) error {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return err
				}
				go func() {
					var path string
					opts := &conn.AcceptOptions{Options: *oursOptions()}
					opts.OnRequest = func(req *handshake.Request) error {
						path = string(req.Target)
						return nil
					}
					c, err := conn.Upgrade(nc, opts)
					if err != nil {
						return
					}
					if path == "/broadcast" {
						h.serve(c)
					} else {
						oursEcho(c)
					}
				}()
			}
		}}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) { return ours.readPath(nc, ready) },
}

func oursOptions() *conn.Options { return &conn.Options{ReadLimit: ReadLimit} }

// oursHandler accepts with compression opts and runs serve on its own
// goroutine, so net/http's per-request state is freed, as for every library
// that allows it.
func oursHandler(compression *conn.CompressionOptions, serve func(*conn.Conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		opts := &conn.AcceptOptions{Options: *oursOptions(), Compression: compression}
		c, err := conn.Accept(w, r, opts)
		if err != nil {
			return
		}
		go serve(c)
	}
}

func oursEcho(c *conn.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		typ, p, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		buf = p
		if err := c.QueueMessage(typ, p); err != nil {
			return
		}
	}
}

func oursCount(c *conn.Conn) (int, error) {
	ctx := context.Background()
	var buf []byte
	for n := 0; ; n++ {
		_, p, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return n, err
		}
		buf = p
	}
}

// oursHub keeps broadcast connections in a conn.Group.
type oursHub struct{ g conn.Group }

func (h *oursHub) serve(c *conn.Conn) {
	h.g.Add(c) // leaves the group when it closes
	oursCount(c)
	c.CloseNow()
}

func (h *oursHub) Len() int { return h.g.Len() }

// Broadcast prepares msg once (conn.PreparedMessage) and sends it with
// Group.Broadcast, which spreads the writes over GOMAXPROCS goroutines. This
// is the one place to change if the broadcast API changes.
func (h *oursHub) Broadcast(msg []byte) error {
	pm, err := conn.NewPreparedMessage(conn.Text, msg)
	if err != nil {
		return err
	}
	_, err = h.g.Broadcast(context.Background(), pm)
	return err
}
