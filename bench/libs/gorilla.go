package libs

import (
	"net"
	"net/http"

	"github.com/gorilla/websocket"

	"github.com/wirelevel/ws/bench/memconn"
)

var gorillaLib = &Lib{
	Name:    "gorilla",
	Peer:    true,
	Default: true,
	Module:  "github.com/gorilla/websocket v1.5.3",
	API:     "Upgrader.Upgrade; NextReader read into a reused buffer, WriteMessage; broadcast with PreparedMessage",
	UTF8:    false, // only close reasons are checked
	Deflate: []string{"noctx"},
	newServer: func() *Server {
		h := &gorillaHub{}
		plain := &websocket.Upgrader{}
		deflate := &websocket.Upgrader{EnableCompression: true} // no context takeover only
		return &Server{
			Handler: mux(
				gorillaHandler(plain, gorillaEcho),
				gorillaHandler(plain, h.serve),
				gorillaHandler(deflate, h.serve),
				map[string]http.HandlerFunc{"noctx": gorillaHandler(deflate, gorillaEcho)}),
			Hub: h,
		}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) {
		up := &websocket.Upgrader{}
		c, err := up.Upgrade(memconn.NewResponseWriter(nc), memconn.UpgradeRequest("/echo"), nil)
		if err != nil {
			return 0, err
		}
		c.SetReadLimit(ReadLimit)
		ready()
		var buf []byte
		for n := 0; ; n++ {
			_, r, err := c.NextReader()
			if err != nil {
				return n, err
			}
			if buf, err = readAll(buf, r); err != nil {
				return n, err
			}
		}
	},
}

func gorillaHandler(up *websocket.Upgrader, serve func(*websocket.Conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.SetReadLimit(ReadLimit)
		go serve(c)
	}
}

func gorillaEcho(c *websocket.Conn) {
	defer c.Close()
	var buf []byte
	for {
		typ, r, err := c.NextReader()
		if err != nil {
			return
		}
		if buf, err = readAll(buf, r); err != nil {
			return
		}
		if err := c.WriteMessage(typ, buf); err != nil {
			return
		}
	}
}

type gorillaHub struct{ set[*websocket.Conn] }

func (h *gorillaHub) serve(c *websocket.Conn) {
	h.add(c)
	defer h.remove(c)
	defer c.Close()
	for {
		if _, _, err := c.NextReader(); err != nil {
			return
		}
	}
}

// Broadcast encodes msg once with a PreparedMessage and writes it to each
// connection in turn.
func (h *gorillaHub) Broadcast(msg []byte) error {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, msg)
	if err != nil {
		return err
	}
	return each(&h.set, func(c *websocket.Conn) error { return c.WritePreparedMessage(pm) })
}
