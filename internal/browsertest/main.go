//go:build js && wasm

// Command browsertest runs package conn's browser build in a page: it dials
// the test server that served it, runs echo round trips and the error
// cases, and leaves PASS and FAIL lines in window.__result for the test
// driving Chromium (conn's TestBrowserBuild).
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall/js"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/conn/wsjson"
)

var (
	base = "ws://" + js.Global().Get("location").Get("host").String()
	bg   = context.Background()
)

func main() {
	var lines []any
	ok := true
	run := func(name string, f func() error) {
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- f() }()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			err = errors.New("timed out")
		}
		if err != nil {
			ok = false
			lines = append(lines, "FAIL "+name+": "+err.Error())
		} else {
			lines = append(lines, "PASS "+name)
		}
		fmt.Println(lines[len(lines)-1])
	}
	run("echo", echo)
	run("streams", streams)
	run("wsjson", jsonRoundTrip)
	run("netconn", netConn)
	run("server close", serverClose)
	run("client close", clientClose)
	run("read limit", readLimit)
	run("read deadline", readDeadline)
	run("refused", refused)
	js.Global().Set("__result", js.ValueOf(map[string]any{"ok": ok, "lines": lines}))
}

func pattern(n int, text bool) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
		if text {
			b[i] = 'a' + byte(i%26)
		}
	}
	return b
}

func dial(path string, opts *conn.DialOptions) (*conn.Conn, error) {
	return conn.Dial(bg, base+path, opts)
}

func echo() error {
	c, err := dial("/echo", &conn.DialOptions{Subprotocols: []string{"echo.v1"}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	if c.Subprotocol() != "echo.v1" {
		return fmt.Errorf("subprotocol %q, want echo.v1", c.Subprotocol())
	}
	fmt.Println("extensions:", c.Extensions())
	var buf []byte
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20} {
		for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
			want := pattern(n, typ == conn.Text)
			if err := c.WriteMessage(bg, typ, want); err != nil {
				return err
			}
			gt, got, err := c.ReadMessage(bg, buf)
			if err != nil {
				return err
			}
			if gt != typ || !bytes.Equal(got, want) {
				return fmt.Errorf("%v of %d bytes came back as %v of %d", typ, n, gt, len(got))
			}
			buf = got
		}
	}
	for i := range 200 {
		msg := fmt.Appendf(nil, "message %d", i)
		c.WriteMessage(bg, conn.Text, msg)
		if _, got, err := c.ReadMessage(bg, buf); err != nil || !bytes.Equal(got, msg) {
			return fmt.Errorf("round trip %d: %q %v", i, got, err)
		}
	}
	if err := c.Close(conn.CloseNormalClosure, "done"); err != nil {
		return err
	}
	if _, _, err := c.ReadMessage(bg, nil); !errors.Is(err, conn.ErrClosed) {
		return fmt.Errorf("read after Close: %v, want ErrClosed", err)
	}
	if err := c.WriteMessage(bg, conn.Text, []byte("late")); err == nil {
		return errors.New("write after Close succeeded")
	}
	return nil
}

func streams() error {
	c, err := dial("/echo", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	w, err := c.NextWriter(bg, conn.Binary)
	if err != nil {
		return err
	}
	for i := range 10 {
		fmt.Fprintf(w, "part %d;", i)
	}
	if err := w.Close(); err != nil {
		return err
	}
	typ, r, err := c.NextReader(bg)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(r)
	if err != nil || typ != conn.Binary || !bytes.HasPrefix(got, []byte("part 0;part 1;")) || len(got) != 70 {
		return fmt.Errorf("NextReader: %v %q %v", typ, got, err)
	}
	return c.Close(conn.CloseNormalClosure, "")
}

func jsonRoundTrip() error {
	c, err := dial("/echo", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	type msg struct{ Text string }
	if err := wsjson.Write(bg, c, msg{"héllo"}); err != nil {
		return err
	}
	var got msg
	if err := wsjson.Read(bg, c, &got); err != nil || got.Text != "héllo" {
		return fmt.Errorf("wsjson.Read: %+v %v", got, err)
	}
	return c.Close(conn.CloseNormalClosure, "")
}

func netConn() error {
	c, err := dial("/echo", nil)
	if err != nil {
		return err
	}
	nc := conn.NetConn(bg, c, conn.Binary)
	want := pattern(100000, false)
	go func() {
		for b := want; len(b) > 0; b = b[min(len(b), 7000):] {
			nc.Write(b[:min(len(b), 7000)])
		}
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(nc, got); err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return errors.New("stream came back different")
	}
	return nc.Close()
}

func serverClose() error {
	c, err := dial("/close4001", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	_, _, err = c.ReadMessage(bg, nil)
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye from the server" || conn.CloseStatus(err) != 4001 {
		return fmt.Errorf("ReadMessage = %v, want the server's 4001", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		return errors.New("Done not closed")
	}
	return nil
}

func clientClose() error {
	c, err := dial("/record", nil)
	if err != nil {
		return err
	}
	if err := c.Close(1001, ""); err == nil {
		return errors.New("Close(1001) accepted: browsers refuse it")
	}
	return c.Close(4002, "from wasm")
}

func readLimit() error {
	c, err := dial("/echo", &conn.DialOptions{Options: conn.Options{ReadLimit: 1000}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.WriteMessage(bg, conn.Binary, pattern(2000, false))
	if _, _, err := c.ReadMessage(bg, nil); !errors.Is(err, conn.ErrMessageTooBig) {
		return fmt.Errorf("ReadMessage = %v, want ErrMessageTooBig", err)
	}
	return nil
}

func readDeadline() error {
	c, err := dial("/echo", nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := c.ReadMessage(bg, nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("ReadMessage = %v, want the deadline", err)
	}
	c.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.ReadMessage(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ReadMessage = %v, want the context's deadline", err)
	}
	c.WriteMessage(bg, conn.Text, []byte("still here"))
	if _, got, err := c.ReadMessage(bg, nil); err != nil || string(got) != "still here" {
		return fmt.Errorf("after the deadlines: %q %v", got, err)
	}
	return c.Close(conn.CloseNormalClosure, "")
}

func refused() error {
	_, err := dial("/nope", nil)
	if conn.CloseStatus(err) != conn.CloseAbnormalClosure {
		return fmt.Errorf("Dial /nope = %v, want 1006", err)
	}
	return nil
}
