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
// -mode picks what the nodes speak: classic (the default,
// @socket.io/redis-adapter's createAdapter), sharded (its
// createShardedAdapter, Redis 7) or streams (@socket.io/redis-streams-adapter,
// with connection state recovery across nodes). Every node of a cluster
// uses the same.
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
	mode := flag.String("mode", "classic", "what the cluster speaks: classic, sharded or streams")
	flag.Parse()
	if err := run(*addr, *redisURL, *key, *mode); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run(addr, redisURL, key, mode string) error {
	app, closeCluster, err := newNode(redisURL, key, mode)
	if err != nil {
		return err
	}
	defer closeCluster()
	return chatapp.Run(addr, app)
}

// newNode returns the chat application, in the cluster of redisURL if it
// is not empty, and the function that leaves the cluster once the server
// is closed.
func newNode(redisURL, key, mode string) (*chatapp.App, func(), error) {
	if redisURL == "" {
		return chatapp.New(nil), func() {}, nil
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, err
	}
	o := redisadapter.Options{Key: key, OnError: func(err error) { log.Print(err) }}
	ro := realtime.Options{}
	switch mode {
	case "", "classic":
	case "sharded":
		o.Sharded = &redisadapter.ShardedOptions{}
	case "streams":
		o.Streams = &redisadapter.StreamsOptions{}
		ro.ConnectionStateRecovery = &realtime.RecoveryOptions{}
	default:
		return nil, nil, fmt.Errorf("unknown mode %q: classic, sharded or streams", mode)
	}
	rdb := redis.NewClient(opt)
	cl := redisadapter.New(rdb, &o)
	ro.NewAdapter = cl.NewAdapter
	app := chatapp.New(&ro)
	log.Printf("chat: in the %s cluster of %s", mode, opt.Addr)
	return app, func() { cl.Close(); rdb.Close() }, nil
}
