package libs

import (
	"context"
	"net"
	"net/http"

	"github.com/coder/websocket"

	"github.com/wirelevel/ws/bench/memconn"
)

var coderLib = &Lib{
	Name:    "coder",
	Peer:    true,
	Default: true,
	Module:  "github.com/coder/websocket v1.8.15",
	API:     "Accept; Reader read into a reused buffer, Write; broadcast by Write in a loop",
	UTF8:    false,
	Deflate: []string{"ctx", "noctx"},
	newServer: func() *Server {
		h := &coderHub{}
		return &Server{
			Handler: mux(
				coderHandler(websocket.CompressionDisabled, coderEcho),
				coderHandler(websocket.CompressionDisabled, h.serve),
				coderHandler(websocket.CompressionNoContextTakeover, h.serve),
				map[string]http.HandlerFunc{
					"ctx":   coderHandler(websocket.CompressionContextTakeover, coderEcho),
					"noctx": coderHandler(websocket.CompressionNoContextTakeover, coderEcho),
				}),
			Hub: h,
		}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) {
		c, err := websocket.Accept(memconn.NewResponseWriter(nc), memconn.UpgradeRequest("/echo"), nil)
		if err != nil {
			return 0, err
		}
		c.SetReadLimit(ReadLimit)
		ready()
		ctx := context.Background()
		var buf []byte
		for n := 0; ; n++ {
			_, r, err := c.Reader(ctx)
			if err != nil {
				return n, err
			}
			if buf, err = readAll(buf, r); err != nil {
				return n, err
			}
		}
	},
}

func coderHandler(mode websocket.CompressionMode, serve func(*websocket.Conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: mode})
		if err != nil {
			return
		}
		c.SetReadLimit(ReadLimit)
		go serve(c)
	}
}

func coderEcho(c *websocket.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	var buf []byte
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return
		}
		if buf, err = readAll(buf, r); err != nil {
			return
		}
		if err := c.Write(ctx, typ, buf); err != nil {
			return
		}
	}
}

type coderHub struct{ set[*websocket.Conn] }

// serve keeps c for broadcasts; CloseRead reads (and handles control
// frames) until the connection closes, as coder documents for write-only
// connections.
func (h *coderHub) serve(c *websocket.Conn) {
	h.add(c)
	defer h.remove(c)
	defer c.CloseNow()
	<-c.CloseRead(context.Background()).Done()
}

// Broadcast writes msg to each connection in turn; coder has no prepared
// message.
func (h *coderHub) Broadcast(msg []byte) error {
	ctx := context.Background()
	return each(&h.set, func(c *websocket.Conn) error { return c.Write(ctx, websocket.MessageText, msg) })
}
