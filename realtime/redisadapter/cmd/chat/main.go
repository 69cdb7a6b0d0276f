// Command chat is the chat demo of cmd/chat as a node of a cluster: every
// node started with the same -redis URL shares rooms with the others,
// through Redis, as nodes of @socket.io/redis-adapter do, so a message sent
// to a room on one node reaches the room's members on every node (Node
// socket.io nodes with the official adapter included).
//
//	redis-server --port 6379 --save '' &
//	go -C realtime/redisadapter run ./cmd/chat -addr 127.0.0.1:8080 -redis redis://127.0.0.1:6379 &
//	go -C realtime/redisadapter run ./cmd/chat -addr 127.0.0.1:8081 -redis redis://127.0.0.1:6379
//
// Then open http://127.0.0.1:8080/ and http://127.0.0.1:8081/, join the
// same room in both and chat. The page's client uses WebSocket only, so the
// nodes need no sticky sessions; clients that use HTTP long-polling behind
// one address do (see the realtime/redisadapter documentation).
//
// Without -redis it is cmd/chat on one server.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/internal/chatapp"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	redisURL := flag.String("redis", "", "Redis URL of the cluster, such as redis://127.0.0.1:6379; none runs one server")
	key := flag.String("key", "", `channel prefix of the cluster ("socket.io" when empty)`)
	flag.Parse()
	if err := run(*addr, *redisURL, *key); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run(addr, redisURL, key string) error {
	app, closeCluster, err := newNode(redisURL, key)
	if err != nil {
		return err
	}
	defer closeCluster()
	return chatapp.Run(addr, app)
}

// newNode returns the chat application, in the cluster of redisURL if it
// is not empty, and the function that leaves the cluster once the server
// is closed.
func newNode(redisURL, key string) (*chatapp.App, func(), error) {
	if redisURL == "" {
		return chatapp.New(nil), func() {}, nil
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, err
	}
	rdb := redis.NewClient(opt)
	cl := redisadapter.New(rdb, &redisadapter.Options{Key: key, OnError: func(err error) { log.Print(err) }})
	app := chatapp.New(&realtime.Options{NewAdapter: cl.NewAdapter})
	log.Printf("chat: in the cluster of %s", opt.Addr)
	return app, func() { cl.Close(); rdb.Close() }, nil
}
