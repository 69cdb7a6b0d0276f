package redisadapter_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
)

// A server joins the cluster through its namespaces' adapters: rooms,
// broadcasts, acknowledgements and fetchSockets then span every node, Go
// or Node, that uses the same Redis and key.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	cl := redisadapter.New(rdb, &redisadapter.Options{OnError: func(err error) { log.Print(err) }})
	defer cl.Close()
	srv := realtime.NewServer(&realtime.Options{NewAdapter: cl.NewAdapter})
	defer srv.Close()

	srv.OnConnection(func(s *realtime.Socket) {
		s.On("chat", func(e *realtime.Event) {
			s.To(e.Args.String(0)).Emit("chat", e.Args.String(1)) // on every node
		})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Ready(ctx); err != nil { // subscribed: the other nodes count this one
		log.Fatal(err)
	}
	// Every client of the room, on every node, acknowledges within 2 s.
	acks, err := srv.To("lobby").Timeout(2*time.Second).EmitWithAck(ctx, "ping")
	fmt.Println(len(acks), err)
	// Sockets of every node; a paused node makes it wait RequestsTimeout.
	sockets, err := srv.FetchSockets(ctx)
	if errors.Is(err, redisadapter.ErrTimeout) {
		log.Printf("some node did not answer; %d sockets from the others", len(sockets))
	}
	http.Handle("/socket.io/", srv)
}

// recorder is a Publisher that prints what would be published.
type recorder struct{}

func (recorder) Publish(ctx context.Context, channel string, message any) *redis.IntCmd {
	fmt.Printf("%s % x\n", channel, message)
	return redis.NewIntCmd(ctx)
}

// An emitter publishes through a go-redis client; every node of the
// cluster, Go or Node, delivers the event to its clients in the rooms.
func ExampleEmitter() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	e := redisadapter.NewEmitter(rdb, nil)
	ctx := context.Background()

	e.Emit(ctx, "news", "to everyone")
	e.To("room1").Except("room2").Emit(ctx, "news", "to room1 but not room2")
	e.Of("/admin").Volatile().Emit(ctx, "tick", time.Now())
	e.In("room1").SocketsJoin(ctx, "room3")
	e.ServerSideEmit(ctx, "reload", 1)
}

// The bytes an emitter publishes: a broadcast to one room goes to that
// room's channel, as msgpack [uid, packet, opts].
func ExampleEmitter_Emit() {
	e := redisadapter.NewEmitter(recorder{}, nil)
	e.To("r1").Emit(context.Background(), "ev", 1)
	// Output:
	// socket.io#/#r1# 93 a7 65 6d 69 74 74 65 72 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a2 65 76 01 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 91 a2 72 31 a5 66 6c 61 67 73 80 a6 65 78 63 65 70 74 90
}

// Object keeps keys in the order given; a time.Time arrives at clients as
// the ISO string of a JavaScript Date, and []byte as a binary attachment.
func ExampleEmitter_Emit_values() {
	e := redisadapter.NewEmitter(recorder{}, nil)
	e.Emit(context.Background(), "ev", wire.Object{{Key: "z", Value: 1}, {Key: "a", Value: time.UnixMilli(0)}}, []byte{7})
	// Output:
	// socket.io#/# 93 a7 65 6d 69 74 74 65 72 83 a4 74 79 70 65 02 a4 64 61 74 61 93 a2 65 76 82 a1 7a 01 a1 61 d6 ff 00 00 00 00 c4 01 07 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 90 a5 66 6c 61 67 73 80 a6 65 78 63 65 70 74 90
}

// In the streams mode, with connection state recovery, a client whose
// connection drops comes back to any node, Go or Node, with its id, rooms
// and data, and receives what was broadcast to it meanwhile.
func ExampleStreamsOptions() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	cl := redisadapter.New(rdb, &redisadapter.Options{Streams: &redisadapter.StreamsOptions{}})
	defer cl.Close()
	srv := realtime.NewServer(&realtime.Options{
		NewAdapter:              cl.NewAdapter,
		ConnectionStateRecovery: &realtime.RecoveryOptions{MaxDisconnectionDuration: 2 * time.Minute},
	})
	defer srv.Close()
	srv.OnConnection(func(s *realtime.Socket) {
		if s.Recovered() {
			return // its rooms are back, and it has received what it missed
		}
		s.Join("news")
	})
	http.Handle("/socket.io/", srv)
}

// In the sharded mode (Redis 7), a broadcast to one room reaches only the
// nodes with sockets in it.
func ExampleShardedOptions() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	cl := redisadapter.New(rdb, &redisadapter.Options{Sharded: &redisadapter.ShardedOptions{SubscriptionMode: redisadapter.Dynamic}})
	defer cl.Close()
	srv := realtime.NewServer(&realtime.Options{NewAdapter: cl.NewAdapter})
	defer srv.Close()
	srv.To("room42").Emit("news", "on the room's channel only")
	http.Handle("/socket.io/", srv)
}

// With a Forwarder, Go nodes behind a balancer without sticky sessions
// serve HTTP long-polling: each request reaches the node of its session.
func ExampleForwarder() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	cl := redisadapter.New(rdb, nil)
	defer cl.Close()
	// Where the other nodes reach this one.
	fw, err := redisadapter.NewForwarder(rdb, &redisadapter.ForwardOptions{Address: "http://10.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	defer fw.Close()
	srv := realtime.NewServer(&realtime.Options{NewAdapter: cl.NewAdapter, GenerateID: fw.GenerateID})
	defer srv.Close()
	http.Handle("/socket.io/", fw.Wrap(srv))
	log.Fatal(http.ListenAndServe(":8080", nil))
}
