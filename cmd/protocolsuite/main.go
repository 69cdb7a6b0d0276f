// Command protocolsuite serves the configuration the official protocol test
// suites expect of a server under test, so that they can be run against
// this repository's servers: socketio/socket.io-protocol's test-suite
// (-protocol socketio, the default) and socketio/engine.io-protocol's
// (-protocol engineio). Both suites connect to localhost:3000.
//
//	go run ./cmd/protocolsuite -protocol socketio
//	(cd socket.io-protocol/test-suite && npm ci && npm test)
//
// The configuration is the one the suites' READMEs give for Node: ping
// interval 300 ms, ping timeout 200 ms, max payload 1,000,000 bytes, connect
// timeout 1 s, CORS for any origin; the Socket.IO server emits "auth" with
// the handshake's auth on connection to "/" and "/custom", echoes
// "message" as "message-back" and acknowledges "message-with-ack" with its
// arguments; the Engine.IO server echoes every message.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/engine"
)

func main() {
	protocol := flag.String("protocol", "socketio", "the suite to serve: socketio or engineio")
	port := flag.Int("port", 3000, "the port on the loopback addresses (127.0.0.1 and ::1, as localhost may be either)")
	flag.Parse()
	h, path, err := handler(*protocol)
	if err != nil {
		fmt.Fprintln(os.Stderr, "protocolsuite:", err)
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.Handle(path, h)
	served := 0
	for _, host := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(*port)))
		if err != nil {
			log.Printf("protocolsuite: %v", err)
			continue
		}
		served++
		go func() { log.Fatal(http.Serve(ln, mux)) }()
		log.Printf("protocolsuite: %s server at http://%s%s", *protocol, ln.Addr(), path)
	}
	if served == 0 {
		os.Exit(1)
	}
	select {}
}

func handler(protocol string) (http.Handler, string, error) {
	const (
		pingInterval = 300 * time.Millisecond
		pingTimeout  = 200 * time.Millisecond
	)
	switch protocol {
	case "engineio":
		srv := engine.NewServer(&engine.Options{PingInterval: pingInterval, PingTimeout: pingTimeout, CORS: &engine.CORSOptions{}})
		srv.OnConnection(func(s *engine.Session) {
			s.OnMessage(func(m engine.Message) {
				if m.Binary {
					s.SendBinary(m.Data)
				} else {
					s.SendText(string(m.Data))
				}
			})
		})
		return srv, "/engine.io/", nil
	case "socketio":
		srv := realtime.NewServer(&realtime.Options{
			PingInterval: pingInterval, PingTimeout: pingTimeout, ConnectTimeout: time.Second,
			CORS: &engine.CORSOptions{},
		})
		srv.OnConnection(func(s *realtime.Socket) {
			s.Emit("auth", s.Auth())
			s.On("message", func(e *realtime.Event) {
				if args, err := e.Args.Values(); err == nil {
					s.Emit("message-back", args...)
				}
			})
			s.On("message-with-ack", func(e *realtime.Event) {
				if args, err := e.Args.Values(); err == nil {
					e.Ack(args...)
				}
			})
		})
		srv.Of("/custom").OnConnection(func(s *realtime.Socket) { s.Emit("auth", s.Auth()) })
		return srv, "/socket.io/", nil
	}
	return nil, "", fmt.Errorf("unknown -protocol %q (socketio or engineio)", protocol)
}
