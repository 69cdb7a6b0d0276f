//go:build !js

package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
)

// BenchmarkStorm measures whole short connections over loopback TCP, as
// bench/'s storm workload makes them: connect, the opening handshake, one
// 16 B text message echoed by the README's loop, the closing handshake,
// close. path=upgrade serves them with [Upgrade] on a raw listener,
// path=accept with [Accept] under net/http. clients=1 runs one connection
// at a time, clients=32 thirty-two at once. B/op and allocs/op count both
// ends (the client's share is the same for both paths: a few allocations
// for dialing).
func BenchmarkStorm(b *testing.B) {
	for _, path := range []string{"upgrade", "accept"} {
		for _, clients := range []int{1, 32} {
			b.Run(fmt.Sprintf("path=%s/clients=%d", path, clients), func(b *testing.B) {
				benchStorm(b, path, clients)
			})
		}
	}
}

// readmeLoop is the README's loop: ReadMessage into the last message's
// buffer, WriteMessage of it, until either fails; then CloseNow.
func readmeLoop(ctx context.Context, c *Conn) {
	defer c.CloseNow()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf)
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
}

func benchStorm(b *testing.B, path string, clients int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	switch path {
	case "upgrade":
		go func() {
			for {
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					c, err := Upgrade(nc, nil)
					if err != nil {
						return
					}
					readmeLoop(context.Background(), c)
				}()
			}
		}()
	case "accept":
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Accept(w, r, nil)
			if err != nil {
				return
			}
			readmeLoop(r.Context(), c)
		})}
		go srv.Serve(ln)
		defer srv.Close()
	}
	addr := ln.Addr().String()
	req := []byte("GET /echo HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	msg := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}, []byte("0123456789abcdef"))
	closeFr := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpClose, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, frame.AppendClose(nil, frame.CloseNormal, ""))
	b.ReportAllocs()
	b.ResetTimer()
	if clients == 1 {
		buf := make([]byte, 512)
		for b.Loop() {
			if err := stormClient(addr, req, msg, closeFr, buf); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	// RunParallel runs parallelism × GOMAXPROCS clients.
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 512)
		for pb.Next() {
			if err := stormClient(addr, req, msg, closeFr, buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// stormClient makes one connection of the storm and checks the echo and the
// server's close frame.
func stormClient(addr string, req, msg, closeFr, buf []byte) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	tcp := nc.(*net.TCPConn)
	defer func() {
		tcp.SetLinger(0)
		tcp.Close()
	}()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(req); err != nil {
		return err
	}
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		k, err := nc.Read(buf[n:])
		if err != nil {
			return fmt.Errorf("read 101: %w", err)
		}
		n += k
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101 ")) {
		return fmt.Errorf("answer %q", buf[:n])
	}
	if i := bytes.Index(buf[:n], []byte("\r\n\r\n")) + 4; i != n {
		return errors.New("bytes after the 101")
	}
	if _, err := nc.Write(msg); err != nil {
		return err
	}
	want := 2 + 16
	if _, err := io.ReadFull(nc, buf[:want]); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if string(buf[2:want]) != "0123456789abcdef" {
		return fmt.Errorf("echo %q", buf[:want])
	}
	if _, err := nc.Write(closeFr); err != nil {
		return err
	}
	if _, err := io.ReadFull(nc, buf[:4]); err != nil {
		return fmt.Errorf("read close: %w", err)
	}
	if buf[0] != 0x88 {
		return fmt.Errorf("close frame % x", buf[:4])
	}
	return nil
}
