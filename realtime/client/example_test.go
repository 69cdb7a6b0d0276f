package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
)

// chatServer starts an in-process Socket.IO server for the examples: "join"
// puts the socket in a room and answers, "chat" relays a message to a room,
// "news" is broadcast to everyone, "slow" is never answered.
func chatServer() (url string, stop func()) {
	srv := realtime.NewServer(nil)
	main := srv.Of("/")
	main.OnConnection(func(s *realtime.Socket) {
		s.On("join", func(e *realtime.Event) {
			room := e.Args.String(0)
			s.Join(room)
			e.Ack("welcome to " + room)
		})
		s.On("chat", func(e *realtime.Event) {
			s.To(e.Args.String(0)).Emit("chat", e.Args.String(1))
		})
		s.On("news", func(e *realtime.Event) {
			main.Emit("news", e.Args.String(0))
		})
		s.On("slow", func(e *realtime.Event) {})
	})
	hs := httptest.NewServer(srv)
	return hs.URL, func() { hs.Close(); srv.Close() }
}

// Two clients join a room; one sends a message, the other receives it.
func Example() {
	url, stop := chatServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	alice, err := client.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Close()
	bob, err := client.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()

	got := make(chan string, 1)
	bob.On("chat", func(e *client.Event) { got <- e.Args.String(0) })
	for _, c := range []*client.Client{alice, bob} {
		reply, err := c.EmitWithAck(ctx, "join", "lobby")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(reply.String(0))
	}
	alice.Emit("chat", "lobby", "hello, Bob")
	fmt.Println("bob got:", <-got)
	// Output:
	// welcome to lobby
	// welcome to lobby
	// bob got: hello, Bob
}

// The zero Options open the session over HTTP long-polling and upgrade it to
// WebSocket, as the official client does. A Go program that knows WebSocket
// gets through can start there.
func ExampleOptions_transports() {
	url, stop := chatServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := client.Dial(ctx, url, &client.Options{
		Transports: []client.Transport{client.WebSocket},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.Transport())
	// Output: websocket
}

// Timeout bounds the wait for one acknowledgement; Options.AckTimeout sets
// a bound for all of them.
func ExampleClient_Timeout() {
	url, stop := chatServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := client.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.Timeout(100*time.Millisecond).EmitWithAck(ctx, "slow")
	fmt.Println(errors.Is(err, client.ErrTimeout), err)
	// Output: true client: operation has timed out
}

// OnAny sees every event before the event's own listeners; On returns the
// function that removes its listener.
func ExampleClient_OnAny() {
	url, stop := chatServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := client.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{}, 1)
	c.OnAny(func(e *client.Event) { fmt.Println("any:", e.Name, e.Args.String(0)) })
	off := c.On("news", func(e *client.Event) {
		fmt.Println("news:", e.Args.String(0))
		done <- struct{}{}
	})
	c.Emit("news", "first")
	<-done

	off() // that listener is gone; a quiet one takes its place
	c.On("news", func(e *client.Event) { done <- struct{}{} })
	c.OnAnyOutgoing(func(event string, args []any) { fmt.Println("out:", event, args) })
	c.Emit("news", "second")
	<-done
	// Output:
	// any: news first
	// news: first
	// out: news [second]
	// any: news second
}

// OnDisconnect gets the reason with the official client's words.
func ExampleOptions_onDisconnect() {
	url, stop := chatServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	c, err := client.Dial(ctx, url, &client.Options{
		OnDisconnect: func(reason client.DisconnectReason, err error) {
			fmt.Println("disconnected:", reason)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	c.Close()
	fmt.Println(c.Err())
	// Output:
	// disconnected: io client disconnect
	// client: closed
}

// Against a server with connection state recovery, a client whose
// connection drops reconnects by itself, sends its session id and the
// offset of the last event it got, and receives the events it missed, with
// its old id: Recovered reports it.
func ExampleClient_Recovered() {
	srv := realtime.NewServer(&realtime.Options{ConnectionStateRecovery: &realtime.RecoveryOptions{}})
	defer srv.Close()
	sockets := make(chan *realtime.Socket, 2)
	srv.OnConnection(func(s *realtime.Socket) { sockets <- s })
	hs := httptest.NewServer(srv)
	defer hs.Close()

	ctx := context.Background()
	c, _ := client.Dial(ctx, hs.URL, &client.Options{ReconnectDelay: 10 * time.Millisecond})
	defer c.Close()
	got := make(chan string, 4)
	c.On("tick", func(e *client.Event) { got <- e.Args.String(0) })
	s := <-sockets
	srv.Emit("tick", "1")
	fmt.Println(<-got)

	// The server loses the connection; a tick goes out meanwhile.
	srv.Engine().Session(s.SessionID()).Close()
	for srv.Of("/").Socket(s.ID()) != nil {
		time.Sleep(time.Millisecond)
	}
	srv.Emit("tick", "2")
	fmt.Println(<-got) // delivered on reconnection
	again := <-sockets
	for i := 0; i < 1000 && !c.Recovered(); i++ {
		time.Sleep(time.Millisecond) // the missed events may come just before the CONNECT reply
	}
	fmt.Println(c.Recovered(), again.Recovered(), again.ID() == s.ID())
	// Output:
	// 1
	// 2
	// true true true
}
