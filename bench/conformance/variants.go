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
	return coderClient(ctx, url, &coderws.DialOptions{CompressionMode: coderws.CompressionContextTakeover})
}

// coderClientPlain is a coder/websocket testee client with its defaults
// (no compression).
func coderClientPlain(ctx context.Context, url string) error {
	return coderClient(ctx, url, nil)
}

// coderClient dials url with opts and echoes every message with Reader
// and Writer until the connection ends.
func coderClient(ctx context.Context, url string, opts *coderws.DialOptions) error {
	c, _, err := coderws.Dial(ctx, url, opts)
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

// gorillaClientEcho is a gorilla/websocket testee client with its
// defaults (websocket.DefaultDialer, no compression), echoing with
// NextReader and NextWriter.
func gorillaClientEcho(ctx context.Context, url string) error {
	c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadLimit(libs.ReadLimit)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	for {
		typ, r, err := c.NextReader()
		if err != nil {
			return err
		}
		w, err := c.NextWriter(typ)
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

// gwsClientEcho is a gws testee client with its defaults (gws.NewClient,
// no compression, UTF-8 unchecked), echoing in OnMessage until the
// connection ends.
func gwsClientEcho(ctx context.Context, url string) error {
	done := make(chan struct{})
	c, _, err := gws.NewClient(&gwsClient{done: done}, &gws.ClientOption{Addr: url, ReadMaxPayloadSize: libs.ReadLimit})
	if err != nil {
		return err
	}
	go c.ReadLoop()
	select {
	case <-done:
	case <-ctx.Done():
		c.NetConn().Close()
		<-done
	}
	return nil
}

type gwsClient struct {
	gwsEcho
	done chan struct{}
}

func (g *gwsClient) OnClose(*gws.Conn, error) { close(g.done) }
