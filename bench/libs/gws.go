package libs

import (
	"net"
	"net/http"

	"github.com/lxzan/gws"

	"github.com/wirelevel/ws/bench/memconn"
)

var gwsLib = newGWS(false)

// gwsUTF8 is gws with CheckUtf8Enabled, as its own Autobahn servers set it:
// the same work as ours on text messages.
var gwsUTF8 = newGWS(true)

func newGWS(checkUTF8 bool) *Lib {
	name, api := "gws", "NewUpgrader with an OnMessage echo (WriteMessage), ReadLoop on its own goroutine, ParallelEnabled off; broadcast with NewBroadcaster"
	var deflate []string
	if checkUTF8 {
		name, api = "gws-utf8", "as gws, with CheckUtf8Enabled: true (not its default)"
	} else {
		deflate = []string{"ctx", "noctx"}
	}
	opts := func(pd *gws.PermessageDeflate) *gws.ServerOption {
		o := gwsOptions(pd)
		o.CheckUtf8Enabled = checkUTF8
		return o
	}
	return &Lib{
		Name:    name,
		Peer:    true,
		Default: true,
		Module:  "github.com/lxzan/gws v1.8.9",
		API:     api,
		UTF8:    checkUTF8, // CheckUtf8Enabled defaults to false
		Deflate: deflate,
		newServer: func() *Server {
			h := &gwsHub{}
			echo := gws.NewUpgrader(gwsEcho{}, opts(nil))
			bcast := gws.NewUpgrader(h, opts(nil))
			bcastDeflate := gws.NewUpgrader(h, opts(&gws.PermessageDeflate{Enabled: true}))
			ctx := gws.NewUpgrader(gwsEcho{}, opts(&gws.PermessageDeflate{Enabled: true, ServerContextTakeover: true, ClientContextTakeover: true}))
			noctx := gws.NewUpgrader(gwsEcho{}, opts(&gws.PermessageDeflate{Enabled: true}))
			return &Server{
				Handler: mux(gwsHandler(echo), gwsHandler(bcast), gwsHandler(bcastDeflate), map[string]http.HandlerFunc{
					"ctx":   gwsHandler(ctx),
					"noctx": gwsHandler(noctx),
				}),
				Hub: h,
			}
		},
		readPath: func(nc net.Conn, ready func()) (int, error) {
			var h gwsCount
			up := gws.NewUpgrader(&h, opts(nil))
			c, err := up.Upgrade(memconn.NewResponseWriter(nc), memconn.UpgradeRequest("/echo"))
			if err != nil {
				return 0, err
			}
			ready()
			c.ReadLoop()
			return h.n, h.err
		},
	}
}

func gwsOptions(pd *gws.PermessageDeflate) *gws.ServerOption {
	o := &gws.ServerOption{ReadMaxPayloadSize: ReadLimit} // 16 MiB is also gws's default
	if pd != nil {
		o.PermessageDeflate = *pd
	}
	return o
}

// gwsHandler upgrades and runs ReadLoop on its own goroutine, as gws's
// README advises for net/http servers.
func gwsHandler(up *gws.Upgrader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go c.ReadLoop()
	}
}

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	c.WriteMessage(m.Opcode, m.Bytes())
}

type gwsCount struct {
	gws.BuiltinEventHandler
	n   int
	err error
}

func (h *gwsCount) OnMessage(c *gws.Conn, m *gws.Message) {
	h.n++
	m.Close()
}

func (h *gwsCount) OnClose(c *gws.Conn, err error) { h.err = err }

type gwsHub struct {
	gws.BuiltinEventHandler
	set[*gws.Conn]
}

func (h *gwsHub) OnOpen(c *gws.Conn)             { h.add(c) }
func (h *gwsHub) OnClose(c *gws.Conn, err error) { h.remove(c) }
func (h *gwsHub) OnMessage(c *gws.Conn, m *gws.Message) {
	m.Close()
}

// Broadcast uses gws.NewBroadcaster, which builds the frame once and queues
// the writes on each connection's own write queue.
func (h *gwsHub) Broadcast(msg []byte) error {
	b := gws.NewBroadcaster(gws.OpcodeText, msg)
	defer b.Close()
	return each(&h.set, func(c *gws.Conn) error { return b.Broadcast(c) })
}
