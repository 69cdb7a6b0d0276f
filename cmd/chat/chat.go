package main

import (
	_ "embed"
	"net/http"
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

// app is the chat server: the page and the Socket.IO events.
type app struct {
	srv *realtime.Server
}

func newApp() *app {
	a := &app{srv: realtime.NewServer(nil)}
	a.srv.Of("/").OnConnection(a.onConnection)
	return a
}

func (a *app) handler() http.Handler {
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

func (a *app) onConnection(s *realtime.Socket) {
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
