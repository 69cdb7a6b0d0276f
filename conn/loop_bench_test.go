package conn

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/wirelevel/ws/frame"
)

// BenchmarkEchoLoop measures the echo loops applications write, over
// loopback TCP, against a raw client that keeps a window of 64 masked frames
// in flight (as bench/'s load generator does): "plain" is the README's loop,
// ReadMessage then WriteMessage with a cancellable context (as r.Context()
// is); "queue" answers with QueueMessage instead.
func BenchmarkEchoLoop(b *testing.B) {
	loops := []struct {
		name  string
		serve func(c *Conn, ctx context.Context)
	}{
		{"plain", func(c *Conn, ctx context.Context) {
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
		}},
		{"queue", func(c *Conn, ctx context.Context) {
			var buf []byte
			for {
				typ, msg, err := c.ReadMessage(ctx, buf)
				if err != nil {
					return
				}
				if err := c.QueueMessage(typ, msg); err != nil {
					return
				}
				buf = msg
			}
		}},
	}
	for _, loop := range loops {
		for _, n := range []int{16, 128, 1 << 10, 1 << 20} {
			for _, typ := range []MessageType{Text, Binary} {
				b.Run(fmt.Sprintf("loop=%s/size=%s/type=%s", loop.name, benchName(n), typ), func(b *testing.B) {
					benchEchoLoop(b, loop.serve, typ, n)
				})
			}
		}
	}
}

func benchEchoLoop(b *testing.B, serve func(*Conn, context.Context), typ MessageType, n int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan struct{})
	go func() {
		defer close(served)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := Server(nc, nil, &Options{ReadLimit: -1})
		defer c.CloseNow()
		serve(c, ctx)
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer func() { cc.Close(); <-served }()
	fr := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.Opcode(typ), Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}, pattern(n))
	window := min(64, max(1, (4<<20)/len(fr)))
	batch := bytes.Repeat(fr, window)
	echoLen := int64(len(fr) - 4) // the echo is unmasked
	var got atomic.Int64
	wake := make(chan struct{}, 1)
	done := make(chan error, 1)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		buf := make([]byte, 256<<10)
		want := int64(b.N) * echoLen
		var read int64
		for read < want {
			k, err := cc.Read(buf)
			if err != nil {
				done <- err
				return
			}
			read += int64(k)
			got.Store(read / echoLen)
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		done <- nil
	}()
	for sent := int64(0); sent < int64(b.N); {
		k := min(int64(window)-(sent-got.Load()), int64(b.N)-sent)
		if k <= 0 {
			<-wake
			continue
		}
		if _, err := cc.Write(batch[:k*int64(len(fr))]); err != nil {
			b.Fatal(err)
		}
		sent += k
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
