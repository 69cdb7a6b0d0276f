package libs

import (
	"net"
	"net/http"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func init() {
	// The wsutil helpers have no message size limit by default.
	wsutil.SetMaxMessageSize(ReadLimit)
}

var gobwasLib = &Lib{
	Name:    "gobwas",
	Peer:    true,
	Default: true,
	Module:  "github.com/gobwas/ws v1.5.0",
	API:     "ws.UpgradeHTTP; wsutil.ReadClientData (a new slice per message), wsutil.WriteServerMessage; broadcast with a frame compiled once (ws.CompileFrame)",
	UTF8:    true, // the wsutil helpers' CheckUTF8 defaults to true in v1.5.0
	newServer: func() *Server {
		h := &gobwasHub{}
		return &Server{Handler: mux(gobwasHandler(gobwasEcho), gobwasHandler(h.serve), nil, nil), Hub: h}
	},
	readPath: func(nc net.Conn, ready func()) (int, error) {
		// gobwas works on any io.ReadWriter; no upgrade is needed.
		ready()
		for n := 0; ; n++ {
			if _, _, err := wsutil.ReadClientData(nc); err != nil {
				return n, err
			}
		}
	},
}

func gobwasHandler(serve func(net.Conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		nc, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		go serve(nc)
	}
}

func gobwasEcho(nc net.Conn) {
	defer nc.Close()
	for {
		msg, op, err := wsutil.ReadClientData(nc)
		if err != nil {
			return
		}
		if err := wsutil.WriteServerMessage(nc, op, msg); err != nil {
			return
		}
	}
}

type gobwasHub struct{ set[net.Conn] }

func (h *gobwasHub) serve(nc net.Conn) {
	h.add(nc)
	defer h.remove(nc)
	defer nc.Close()
	for {
		if _, _, err := wsutil.ReadClientData(nc); err != nil {
			return
		}
	}
}

// Broadcast compiles the frame once and writes its bytes to each connection
// in turn.
func (h *gobwasHub) Broadcast(msg []byte) error {
	b, err := ws.CompileFrame(ws.NewTextFrame(msg))
	if err != nil {
		return err
	}
	return each(&h.set, func(nc net.Conn) error {
		_, err := nc.Write(b)
		return err
	})
}
