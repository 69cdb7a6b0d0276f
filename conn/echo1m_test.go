//go:build !js

package conn

import (
	"io"
	"net"
	"testing"

	"github.com/wirelevel/ws/frame"
)

// BenchmarkServerEcho1MiB: a raw client pipelines masked 1 MiB text frames
// to a server Conn that echoes with QueueMessage.
func BenchmarkServerEcho1MiB(b *testing.B) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := Server(nc, nil, &Options{ReadLimit: -1})
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(bg, buf)
			if err != nil {
				return
			}
			c.QueueMessage(typ, msg)
			buf = msg
		}
	}()
	cc, _ := net.Dial("tcp", ln.Addr().String())
	defer cc.Close()
	const n = 1 << 20
	fr := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, pattern(n))
	echoLen := n + 10
	b.SetBytes(n)
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 256<<10)
		want := int64(b.N) * int64(echoLen)
		var got int64
		for got < want {
			k, err := cc.Read(buf)
			if err != nil {
				break
			}
			got += int64(k)
		}
		close(done)
	}()
	b.ResetTimer()
	for range b.N {
		if _, err := cc.Write(fr); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	_ = io.EOF
}
