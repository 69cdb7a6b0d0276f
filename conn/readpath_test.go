//go:build !js

package conn

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/internal/pipe"
)

// replayConn is a net.Conn whose reads return a block of frames over and
// over without system calls, for measuring the read path alone.
type replayConn struct {
	block []byte
	pos   int
}

func (r *replayConn) Read(p []byte) (int, error) {
	n := copy(p, r.block[r.pos:])
	r.pos += n
	if r.pos == len(r.block) {
		r.pos = 0
	}
	return n, nil
}
func (r *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (r *replayConn) Close() error                     { return nil }
func (r *replayConn) LocalAddr() net.Addr              { return pipe.Addr("replay") }
func (r *replayConn) RemoteAddr() net.Addr             { return pipe.Addr("replay") }
func (r *replayConn) SetDeadline(time.Time) error      { return nil }
func (r *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (r *replayConn) SetWriteDeadline(time.Time) error { return nil }

var _ io.Reader = (*replayConn)(nil)

// BenchmarkReadPath measures a server reading masked text messages that are
// already in memory: parsing, unmasking, UTF-8 validation and copying.
func BenchmarkReadPath(b *testing.B) {
	for _, n := range []int{16, 1 << 10, 64 << 10} {
		b.Run("size="+benchName(n), func(b *testing.B) {
			fr := frame.AppendFrame(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, pattern(n))
			block := bytes.Repeat(fr, max(1, (256<<10)/len(fr)))
			c := Server(&replayConn{block: block}, nil, nil)
			buf := make([]byte, 0, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.ReadMessage(bg, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
