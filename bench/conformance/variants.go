package conformance

import (
	"context"

	"io"
	"net/http"
	"time"
	"unicode/utf8"

	coderws "github.com/coder/websocket"
	"github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/wirelevel/ws/bench/libs"
)

// Servers of the variants that set a library up as its own Autobahn echo
// server does. They show which verdicts of the default servers come from a
// default setting rather than from the harness.
var variantServers = map[string]func() http.Handler{
	// gorilla has no option: its own Autobahn server checks each text
	// message with utf8.Valid and sends close 1007 itself.
	"gorilla+utf8": func() http.Handler {
		up := &websocket.Upgrader{}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			c.SetReadLimit(libs.ReadLimit)
			go func() {
				defer c.Close()
				for {
					typ, rd, err := c.NextReader()
					if err != nil {
						return
					}
					b, err := io.ReadAll(rd)
					if err != nil {
						return
					}
					if typ == websocket.TextMessage && !utf8.Valid(b) {
						msg := websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "")
						c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
						// Wait for the peer's close (NextReader returns
						// its close error), as the closing handshake asks.
						c.SetReadDeadline(time.Now().Add(2 * time.Second))
						for {
							if _, _, err := c.NextReader(); err != nil {
								return
							}
						}
					}
					if err := c.WriteMessage(typ, b); err != nil {
						return
					}
				}
			}()
		})
	},
	// gws checks text and close reasons with CheckUtf8Enabled, and its
	// own Autobahn servers turn it on; they also answer pings with the
	// ping's payload, where gws.BuiltinEventHandler sends an empty pong.
	"gws+autobahn": func() http.Handler {
		up := gws.NewUpgrader(gwsEcho{}, &gws.ServerOption{ReadMaxPayloadSize: libs.ReadLimit, CheckUtf8Enabled: true})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r)
			if err != nil {
				return
			}
			go c.ReadLoop()
		})
	},
}

type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnPing(c *gws.Conn, payload []byte) { c.WritePong(payload) }

func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	c.WriteMessage(m.Opcode, m.Bytes())
}

// coderClientEcho is a coder/websocket testee client with context
// takeover, as coder's own Autobahn test dials the fuzzing server.
func coderClientEcho(ctx context.Context, url string) error {
	c, _, err := coderws.Dial(ctx, url, &coderws.DialOptions{CompressionMode: coderws.CompressionContextTakeover})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(libs.ReadLimit)
	for {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			return err
		}
		w, err := c.Writer(ctx, typ)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}
