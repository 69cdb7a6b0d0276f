package libs

import (
	"net"

	"golang.org/x/net/websocket"

	"github.com/wirelevel/ws/bench/memconn"
)

var xnetLib = &Lib{
	Name:    "xnet",
	Peer:    true,
	Default: true,
	Module:  "golang.org/x/net/websocket v0.62.0",
	API:     "websocket.Handler (the connection lives on the handler goroutine); Codec Receive/Send keeping the frame type; broadcast by Send in a loop",
	UTF8:    false,
	newServer: func() *Server {
		h := &xnetHub{}
		return &Server{Handler: mux(websocket.Handler(xnetEcho).ServeHTTP, websocket.Handler(h.serve).ServeHTTP, nil, nil), Hub: h}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) {
		var n int
		var err error
		websocket.Handler(func(c *websocket.Conn) {
			c.MaxPayloadBytes = ReadLimit
			ready()
			for ; ; n++ {
				var m xnetMessage
				if err = xnetCodec.Receive(c, &m); err != nil {
					return
				}
			}
		}).ServeHTTP(memconn.NewResponseWriter(nc), memconn.UpgradeRequest("/echo"))
		return n, err
	},
}

// xnetMessage is a message with its frame type. websocket.Message sends a
// []byte as binary and a string as text and does not say what it received,
// so an echo keeps the type through a Codec of its own.
type xnetMessage struct {
	data []byte
	typ  byte
}

var xnetCodec = websocket.Codec{
	Marshal: func(v any) ([]byte, byte, error) {
		m := v.(*xnetMessage)
		return m.data, m.typ, nil
	},
	Unmarshal: func(data []byte, typ byte, v any) error {
		m := v.(*xnetMessage)
		m.data, m.typ = data, typ
		return nil
	},
}

func xnetEcho(c *websocket.Conn) {
	c.MaxPayloadBytes = ReadLimit
	var m xnetMessage
	for {
		if err := xnetCodec.Receive(c, &m); err != nil {
			return
		}
		if err := xnetCodec.Send(c, &m); err != nil {
			return
		}
	}
}

type xnetHub struct{ set[*websocket.Conn] }

func (h *xnetHub) serve(c *websocket.Conn) {
	h.add(c)
	defer h.remove(c)
	var m xnetMessage
	for {
		if err := xnetCodec.Receive(c, &m); err != nil {
			return
		}
	}
}

// Broadcast sends msg to each connection in turn.
func (h *xnetHub) Broadcast(msg []byte) error {
	m := &xnetMessage{data: msg, typ: websocket.TextFrame}
	return each(&h.set, func(c *websocket.Conn) error { return xnetCodec.Send(c, m) })
}
