//go:build !js

package conn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

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
		{"plain", func(c *Conn, ctx context.Context) { readmeLoop(ctx, c) }},
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
	for _, loop := range append(loops, struct {
		name  string
		serve func(c *Conn, ctx context.Context)
	}{"poll", nil}) {
		for _, n := range []int{16, 128, 1 << 10, 1 << 20} {
			for _, typ := range []MessageType{Text, Binary} {
				b.Run(fmt.Sprintf("loop=%s/size=%s/type=%s", loop.name, benchName(n), typ), func(b *testing.B) {
					benchEchoLoop(b, loop.serve, typ, n)
				})
			}
		}
	}
}

// echoServer serves one connection on a loopback listener with serve, or
// with a Poller whose OnMessage answers with QueueMessage if serve is nil,
// and returns the client's end.
func echoServer(b *testing.B, serve func(*Conn, context.Context)) net.Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var p *Poller
	if serve == nil {
		if p, err = NewPoller(); err != nil {
			b.Fatal(err)
		}
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := Server(nc, nil, &Options{ReadLimit: -1})
		if p != nil {
			p.Add(c, PollHandler{OnMessage: func(c *Conn, typ MessageType, msg []byte) { c.QueueMessage(typ, msg) }})
			return
		}
		defer c.CloseNow()
		serve(c, ctx)
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cc.Close()
		<-served
		cancel()
		ln.Close()
		if p != nil {
			p.Close()
		}
	})
	return cc
}

func benchEchoLoop(b *testing.B, serve func(*Conn, context.Context), typ MessageType, n int) {
	cc := echoServer(b, serve)
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

// BenchmarkLoopRoundTrip measures one message in flight between a raw
// client and the plain loop (a goroutine per connection) or a Poller, and
// reports the median and 99th percentile round trip.
func BenchmarkLoopRoundTrip(b *testing.B) {
	plain := func(c *Conn, ctx context.Context) {
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
	for _, srv := range []struct {
		name  string
		serve func(*Conn, context.Context)
	}{{"plain", plain}, {"poll", nil}} {
		for _, n := range []int{16, 1 << 10} {
			b.Run(fmt.Sprintf("server=%s/size=%s", srv.name, benchName(n)), func(b *testing.B) {
				cc := echoServer(b, srv.serve)
				fr := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}, pattern(n))
				echoLen := len(fr) - 4
				buf := make([]byte, echoLen)
				var d []time.Duration
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					start := time.Now()
					if _, err := cc.Write(fr); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(cc, buf); err != nil {
						b.Fatal(err)
					}
					d = append(d, time.Since(start))
				}
				slices.Sort(d)
				b.ReportMetric(float64(d[len(d)/2]), "p50-ns")
				b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)]), "p99-ns")
			})
		}
	}
}
