//go:build !js

package conn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkReadContext measures what the context given to ReadMessage
// costs per message: context.Background(), and the request's context of a
// net/http handler (r.Context(), as the README's first example used to
// read with), which is cancellable and so is watched during every read.
//
//	go test -run '^$' -bench ReadContext -benchmem ./conn
func BenchmarkReadContext(b *testing.B) {
	type accepted struct {
		c   *Conn
		ctx context.Context
	}
	got := make(chan accepted, 1)
	release := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, nil)
		if err != nil {
			return
		}
		got <- accepted{c, r.Context()}
		<-release // r.Context() lives as long as the handler
	}))
	defer s.Close()
	defer close(release)
	cli, err := Dial(bg, wsURL(s, "/"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cli.CloseNow()
	a := <-got
	defer a.c.CloseNow()
	msg := pattern(64)
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{{"Background", context.Background()}, {"RequestContext", a.ctx}} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, len(msg))
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := cli.WriteMessage(bg, Text, msg); err != nil {
					b.Fatal(err)
				}
				var err error
				if _, buf, err = a.c.ReadMessage(tc.ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
