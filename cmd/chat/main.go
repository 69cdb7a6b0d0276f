// Command chat is a chat room demo of package realtime: a web page at / and
// a Socket.IO server at /socket.io/.
//
//	go run ./cmd/chat -addr 127.0.0.1:8080
//
// The page carries its own small Socket.IO client (WebSocket transport,
// events, acknowledgements, binary attachments, reconnection), so the demo
// needs nothing but Go; the official socket.io-client works against the same
// server too. Events:
//
//   - join(room) joins a room; acknowledged with ("joined", room).
//   - chat(room, text) sends text to everyone else in the room, as
//     chat(room, text, senderID); acknowledged with (), or with an error
//     message if the sender is not in the room.
//   - echo(args...) is acknowledged with the same arguments, binary
//     attachments included.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	app := newApp()
	hs := &http.Server{Handler: app.handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Printf("chat: serving http://%s/", ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-errc:
		app.srv.Close()
		return err
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app.srv.Close()
	if err := hs.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
