package libs

import (
	"context"
	"net"
	"net/http"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/handshake"
)

// Compression settings of this library's compressed variants.
var (
	oursCtx   = &conn.CompressionOptions{}
	oursNoCtx = &conn.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
)

// ours is this library the way its README shows it: conn.Accept in the
// handler, then ReadMessage and WriteMessage with the request's context,
// in the handler itself.
var ours = &Lib{
	Name:    "ours",
	Default: true,
	Module:  "github.com/wirelevel/ws (this tree)",
	API:     "the README's loop: conn.Accept, then ReadMessage(r.Context(), buf) and WriteMessage(r.Context(), …) in the handler; broadcast with PreparedMessage and Group.Broadcast",
	UTF8:    true,
	Deflate: []string{"ctx", "noctx"},
	newServer: func() *Server {
		h := &oursHub{}
		return &Server{
			Handler: mux(
				oursPlain(nil),
				oursHandler(nil, h.serve),
				oursHandler(oursCtx, h.serve),
				map[string]http.HandlerFunc{"ctx": oursPlain(oursCtx), "noctx": oursPlain(oursNoCtx)}),
			Hub: h,
		}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) {
		c := conn.Server(nc, nil, oursOptions())
		ready()
		return oursCount(c)
	},
}

// oursQueue answers with QueueMessage, the explicit batching call, from a
// goroutine of its own.
var oursQueue = &Lib{
	Name:    "ours-queue",
	Default: true,
	Module:  "github.com/wirelevel/ws (this tree)",
	API:     "conn.Accept; a goroutine per connection: ReadMessage into a reused buffer, QueueMessage; broadcast as ours",
	UTF8:    true,
	Deflate: []string{"ctx", "noctx"},
	newServer: func() *Server {
		h := &oursHub{}
		return &Server{
			Handler: mux(
				oursHandler(nil, oursQueueEcho),
				oursHandler(nil, h.serve),
				oursHandler(oursCtx, h.serve),
				map[string]http.HandlerFunc{
					"ctx":   oursHandler(oursCtx, oursQueueEcho),
					"noctx": oursHandler(oursNoCtx, oursQueueEcho),
				}),
			Hub: h,
		}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) { return ours.readPath(nc, ready) },
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
				oursHandler(oursCtx, serveHub),
				map[string]http.HandlerFunc{
					"ctx":   oursHandler(oursCtx, serveEcho),
					"noctx": oursHandler(oursNoCtx, serveEcho),
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
	Raw:    true,
	Module: "github.com/wirelevel/ws (this tree)",
	API:    "conn.Upgrade on a raw listener (no net/http); the README's loop with context.Background()",
	UTF8:   true,
	newServer: func() *Server {
		h := &oursHub{}
		return &Server{Hub: h, Serve: func(ln net.Listener) error {
			return serveEach(ln, func(nc net.Conn) {
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
					oursLoop(context.Background(), c)
				}
			})
		}}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) { return ours.readPath(nc, ready) },
}

func oursOptions() *conn.Options { return &conn.Options{ReadLimit: ReadLimit} }

// oursPlain accepts with compression opts and runs the README's loop in the
// handler, with the request's context.
func oursPlain(compression *conn.CompressionOptions) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		opts := &conn.AcceptOptions{Options: *oursOptions(), Compression: compression}
		c, err := conn.Accept(w, r, opts)
		if err != nil {
			return
		}
		oursLoop(r.Context(), c)
	}
}

// oursLoop is the README's echo loop.
func oursLoop(ctx context.Context, c *conn.Conn) {
	defer c.CloseNow()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
}

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

func oursQueueEcho(c *conn.Conn) {
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
