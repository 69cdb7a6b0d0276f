// Package chatapp is the chat demo of package realtime: a web page and the
// Socket.IO events behind it. cmd/chat runs it on one server, and
// realtime/redisadapter/cmd/chat runs it as a node of a cluster over Redis.
// It leaves the listener and the adapter to its caller.
package chatapp

import (
	"context"
	_ "embed"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wirelevel/ws/realtime"
)

//go:embed page.html
var page []byte

// Limits of the demo's events.
const (
	maxRoom = 64   // bytes in a room name
	maxText = 4000 // bytes in a chat message
)

// App is the chat server: the page and the Socket.IO events.
type App struct {
	srv *realtime.Server
}

// New returns the chat application on a server made with opts (nil for
// the defaults; with a cluster adapter in opts.NewAdapter, rooms span the
// cluster).
func New(opts *realtime.Options) *App {
	a := &App{srv: realtime.NewServer(opts)}
	a.srv.Of("/").OnConnection(a.onConnection)
	return a
}

// Server returns the application's Socket.IO server.
func (a *App) Server() *realtime.Server { return a.srv }

// Handler returns the page at / and Socket.IO at /socket.io/.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", a.srv)
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(page)
	})
	return mux
}

func (a *App) onConnection(s *realtime.Socket) {
	s.On("join", func(e *realtime.Event) {
		room := e.Args.String(0)
		if room == "" || len(room) > maxRoom || !utf8.ValidString(room) || room == s.ID() {
			e.Ack("error", "room names are 1 to 64 bytes")
			return
		}
		s.Join(room)
		e.Ack("joined", room)
	})
	s.On("chat", func(e *realtime.Event) {
		room, text := e.Args.String(0), e.Args.String(1)
		switch {
		case !inRoom(s, room) || room == s.ID():
			e.Ack("join the room first")
			return
		case text == "" || len(text) > maxText:
			e.Ack("messages are 1 to 4000 bytes")
			return
		}
		s.To(room).Emit("chat", room, text, s.ID())
		e.Ack()
	})
	s.On("echo", func(e *realtime.Event) {
		args, err := e.Args.Values()
		if err != nil {
			e.Ack("error", err.Error())
			return
		}
		e.Ack(args...)
	})
}

func inRoom(s *realtime.Socket, room string) bool {
	for _, r := range s.Rooms() {
		if r == room {
			return true
		}
	}
	return false
}

// Run serves a on addr until SIGINT or SIGTERM, then closes its server and
// shuts the HTTP server down (waiting at most 10 s). It logs the URL once
// it listens.
func Run(addr string, a *App) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		a.srv.Close()
		return err
	}
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Printf("chat: serving http://%s/", ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-errc:
		a.srv.Close()
		return err
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a.srv.Close()
	if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
