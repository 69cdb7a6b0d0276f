//go:build !js

package wsjson_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/conn/wsjson"
)

var bg = context.Background()

func TestRoundTrip(t *testing.T) {
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	type msg struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for _, want := range []msg{{"a", 1}, {"<b>", 2}, {strings.Repeat("x", 100<<10), 3}} {
		if err := wsjson.Write(bg, cli, want); err != nil {
			t.Fatal(err)
		}
		var got msg
		if err := wsjson.Read(bg, srv, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("Read = %+v, want %+v", got.Name[:min(len(got.Name), 10)], want.Name[:min(len(want.Name), 10)])
		}
	}
	// The wire form has no trailing newline.
	wsjson.Write(bg, cli, 42)
	typ, b, err := srv.ReadMessage(bg, nil)
	if err != nil || typ != conn.Text || string(b) != "42" {
		t.Fatalf("message %v %q %v, want text 42", typ, b, err)
	}
}

func TestErrorsLeaveTheConnOpen(t *testing.T) {
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	var v map[string]int
	cli.WriteMessage(bg, conn.Binary, []byte(`{}`))
	if err := wsjson.Read(bg, srv, &v); !errors.Is(err, wsjson.ErrBinary) {
		t.Errorf("binary message: %v, want ErrBinary", err)
	}
	cli.WriteMessage(bg, conn.Text, []byte(`{"a":`))
	if err := wsjson.Read(bg, srv, &v); err == nil || !strings.HasPrefix(err.Error(), "wsjson: decode: ") {
		t.Errorf("bad JSON: %v, want a decode error", err)
	}
	if err := wsjson.Write(bg, cli, func() {}); err == nil {
		t.Error("Write of a func succeeded")
	}
	wsjson.Write(bg, cli, map[string]int{"a": 1})
	if err := wsjson.Read(bg, srv, &v); err != nil || v["a"] != 1 {
		t.Errorf("after the errors: %v %v", v, err)
	}
	if srv.Err() != nil || cli.Err() != nil {
		t.Errorf("connection failed: %v %v", srv.Err(), cli.Err())
	}
}

// One JSON value per text message, each way.
func Example() {
	ctx := context.Background()
	srv, cli := conn.Pipe(nil, nil)
	defer srv.CloseNow()
	defer cli.CloseNow()
	type event struct {
		Kind string `json:"kind"`
		Seq  int    `json:"seq"`
	}
	if err := wsjson.Write(ctx, cli, event{"join", 1}); err != nil {
		panic(err)
	}
	var e event
	if err := wsjson.Read(ctx, srv, &e); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", e)
	// Output: {Kind:join Seq:1}
}
