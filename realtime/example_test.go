package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/client"
)

// A chat server: clients join rooms and talk to everyone else in them.
func Example() {
	srv := realtime.NewServer(nil)
	defer srv.Close()
	srv.OnConnection(func(s *realtime.Socket) {
		s.On("join", func(e *realtime.Event) {
			room := e.Args.String(0)
			s.Join(room)
			e.Ack("joined " + room)
		})
		s.On("say", func(e *realtime.Event) {
			// To the room, except the sender.
			s.To(e.Args.String(0)).Emit("said", e.Args.String(1))
		})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	ctx := context.Background()
	alice, _ := client.Dial(ctx, hs.URL, nil)
	defer alice.Close()
	bob, _ := client.Dial(ctx, hs.URL, nil)
	defer bob.Close()
	heard := make(chan string, 1)
	bob.On("said", func(e *client.Event) { heard <- e.Args.String(0) })
	for _, c := range []*client.Client{alice, bob} {
		a, _ := c.EmitWithAck(ctx, "join", "lobby")
		fmt.Println(a.String(0))
	}
	alice.Emit("say", "lobby", "hello, bob")
	fmt.Println("bob heard:", <-heard)
	// Output:
	// joined lobby
	// joined lobby
	// bob heard: hello, bob
}

// Acknowledgements from every socket of a room, with a timeout: the
// answers that came, and an error naming how many did not.
func ExampleBroadcast_EmitWithAck() {
	srv := realtime.NewServer(nil)
	defer srv.Close()
	joined := make(chan struct{}, 3)
	srv.OnConnection(func(s *realtime.Socket) {
		s.Join("voters")
		joined <- struct{}{}
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	for _, vote := range []string{"yes", "no", ""} {
		c, _ := client.Dial(ctx, hs.URL, nil)
		defer c.Close()
		if vote != "" { // the third client never answers
			c.On("vote", func(e *client.Event) { e.Ack(vote) })
		}
		<-joined
	}

	acks, err := srv.To("voters").Timeout(300*time.Millisecond).EmitWithAck(ctx, "vote", "lunch?")
	var votes []string
	for _, a := range acks {
		votes = append(votes, a.String(0))
	}
	slices.Sort(votes)
	fmt.Println(votes)
	fmt.Println(errors.Is(err, realtime.ErrAckTimeout), err)
	// Output:
	// [no yes]
	// true realtime: operation has timed out: 1 of 3 acknowledgements missing
}

// Middleware vets every client that joins a namespace; per-packet
// middleware vets every event of a socket.
func ExampleNamespace_Use() {
	srv := realtime.NewServer(nil)
	defer srv.Close()
	admin := srv.Of("/admin")
	admin.Use(func(s *realtime.Socket) error {
		var auth struct{ Token string }
		json.Unmarshal(s.Auth(), &auth)
		if auth.Token != "secret" {
			return &realtime.ConnectError{Message: "not authorized", Data: map[string]int{"code": 401}}
		}
		s.SetData(map[string]string{"role": "admin"})
		return nil
	})
	admin.OnConnection(func(s *realtime.Socket) {
		s.Use(func(e *realtime.Event) error {
			if strings.HasPrefix(e.Name, "internal:") {
				return errors.New("not for clients")
			}
			return nil
		})
		s.On("whoami", func(e *realtime.Event) { e.Ack(s.Data()) })
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()

	_, err := client.Dial(ctx, hs.URL, &client.Options{Namespace: "/admin", NoReconnect: true})
	fmt.Println(err)
	c, _ := client.Dial(ctx, hs.URL, &client.Options{Namespace: "/admin", Auth: map[string]string{"token": "secret"}})
	defer c.Close()
	a, _ := c.EmitWithAck(ctx, "whoami")
	fmt.Printf("%s\n", a.Raw(0))
	// Output:
	// client: connection refused: not authorized
	// {"role":"admin"}
}

// Dynamic namespaces: any name a pattern matches is created on demand.
func ExampleServer_OfPattern() {
	srv := realtime.NewServer(nil)
	defer srv.Close()
	// Each name the pattern matches becomes a namespace of its own, with
	// its own rooms and sockets, and the parent's handlers.
	teams := srv.OfPattern(regexp.MustCompile(`^/team-\d+$`))
	teams.OnConnection(func(s *realtime.Socket) {
		s.On("where", func(e *realtime.Event) { e.Ack(s.Namespace().Name()) })
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	c, _ := client.Dial(ctx, hs.URL, &client.Options{Namespace: "/team-7"})
	defer c.Close()
	a, _ := c.EmitWithAck(ctx, "where")
	fmt.Println(a.String(0), len(teams.Children()))
	// Output: /team-7 1
}

// fetchSockets describes sockets (on every server of a cluster) and acts
// on them.
func ExampleBroadcast_FetchSockets() {
	srv := realtime.NewServer(nil)
	defer srv.Close()
	joined := make(chan struct{}, 2)
	srv.OnConnection(func(s *realtime.Socket) {
		s.SetData(map[string]any{"n": srv.Of("/").SocketCount()})
		s.Join("room")
		joined <- struct{}{}
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	for range 2 {
		c, _ := client.Dial(ctx, hs.URL, nil)
		defer c.Close()
		<-joined
	}
	found, _ := srv.In("room").FetchSockets(ctx)
	fmt.Println(len(found), "sockets in room")
	for _, r := range found {
		r.Join("fetched") // works for sockets on other servers too
	}
	ids, _ := srv.In("fetched").AllSockets(ctx)
	fmt.Println(len(ids), "sockets in fetched")
	// Output:
	// 2 sockets in room
	// 2 sockets in fetched
}

// Connection state recovery: a client that loses its connection and comes
// back within two minutes gets its id, rooms and the events it missed.
func ExampleRecoveryOptions() {
	srv := realtime.NewServer(&realtime.Options{ConnectionStateRecovery: &realtime.RecoveryOptions{}})
	defer srv.Close()
	joined := make(chan *realtime.Socket, 1)
	srv.OnConnection(func(s *realtime.Socket) {
		if !s.Recovered() {
			s.Join("news")
			joined <- s
		}
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()
	c, _ := client.Dial(ctx, hs.URL, &client.Options{
		Transports: []client.Transport{client.WebSocket}, ReconnectDelay: 10 * time.Millisecond,
	})
	defer c.Close()
	got := make(chan string, 3)
	c.On("news", func(e *client.Event) { got <- e.Args.String(0) })
	s := <-joined
	srv.To("news").Emit("news", "hello") // the client now holds an offset
	fmt.Println(<-got)

	// The connection drops; the server sees the socket go away.
	srv.Engine().Session(s.SessionID()).Close()
	for srv.Of("/").Socket(s.ID()) != nil {
		time.Sleep(time.Millisecond)
	}
	srv.To("news").Emit("news", "while you were away")
	fmt.Println(<-got)
	for !c.Recovered() {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("recovered with the same id:", c.ID() == s.ID())
	// Output:
	// hello
	// while you were away
	// recovered with the same id: true
}
