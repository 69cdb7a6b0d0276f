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
//
// The -redis flag belongs to the cluster build of the same demo, which
// lives in the realtime/redisadapter module so that this module does not
// depend on a Redis client:
//
//	go -C realtime/redisadapter run ./cmd/chat -addr 127.0.0.1:8080 -redis redis://127.0.0.1:6379
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/wirelevel/ws/internal/chatapp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	redisURL := flag.String("redis", "", "Redis URL of a cluster: only in the cluster build (see the command's documentation)")
	flag.Parse()
	if *redisURL != "" {
		fmt.Fprintln(os.Stderr, "chat: -redis needs the cluster build: go -C realtime/redisadapter run ./cmd/chat -addr", *addr, "-redis", *redisURL)
		os.Exit(2)
	}
	if err := chatapp.Run(*addr, chatapp.New(nil)); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}
