package loadgen

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/wirelevel/ws/frame"
)

// chunkConn returns its data k bytes per read, then io.EOF.
type chunkConn struct {
	net.Conn
	data []byte
	k    int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.k)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func serverFrame(fin bool, op frame.Opcode, rsv byte, p []byte) []byte {
	return frame.AppendFrame(nil, frame.Header{Fin: fin, Opcode: op, Rsv: rsv}, p)
}

func TestScannerNext(t *testing.T) {
	big := Binary(70000, 1)
	tests := []struct {
		name    string
		stream  []byte
		want    []Message
		wantErr error
	}{
		{
			name:   "Hello",
			stream: []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			want:   []Message{{Op: frame.OpText, Len: 5, Payload: []byte("Hello")}},
		},
		{
			name: "fragments with a ping between",
			stream: bytes.Join([][]byte{
				serverFrame(false, frame.OpText, 0, []byte("Hel")),
				serverFrame(true, frame.OpPing, 0, []byte("p")),
				serverFrame(true, frame.OpContinuation, 0, []byte("lo")),
			}, nil),
			want: []Message{{Op: frame.OpText, Len: 5, Payload: []byte("Hello")}},
		},
		{
			name:   "64-bit length",
			stream: serverFrame(true, frame.OpBinary, 0, big),
			want:   []Message{{Op: frame.OpBinary, Len: int64(len(big)), Payload: big}},
		},
		{
			name:   "compressed",
			stream: serverFrame(true, frame.OpText, frame.RSV1, []byte{0xf2, 0x48, 0xcd}),
			want:   []Message{{Op: frame.OpText, Compressed: true, Len: 3, Payload: []byte{0xf2, 0x48, 0xcd}}},
		},
		{
			name: "two messages then close",
			stream: bytes.Join([][]byte{
				serverFrame(true, frame.OpText, 0, []byte("a")),
				serverFrame(true, frame.OpBinary, 0, []byte("bc")),
				serverFrame(true, frame.OpClose, 0, []byte{0x03, 0xe8}),
			}, nil),
			want: []Message{
				{Op: frame.OpText, Len: 1, Payload: []byte("a")},
				{Op: frame.OpBinary, Len: 2, Payload: []byte("bc")},
			},
			wantErr: ErrServerClosed,
		},
	}
	for _, tt := range tests {
		for _, k := range []int{1, 2, 3, 7, 1 << 20} {
			for _, assemble := range []bool{true, false} {
				c := &Conn{nc: &chunkConn{data: tt.stream, k: k}}
				s := newScanner(c, 64, assemble)
				var got []Message
				var err error
				for {
					var m Message
					if err = s.next(&m); err != nil {
						break
					}
					got = append(got, m)
				}
				if tt.wantErr == nil && err != io.EOF || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("%s, %d-byte reads: error %v, want %v", tt.name, k, err, tt.wantErr)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("%s, %d-byte reads: %d messages, want %d", tt.name, k, len(got), len(tt.want))
				}
				for i, m := range got {
					w := tt.want[i]
					if !assemble {
						w.Payload = nil
					}
					if m.Op != w.Op || m.Compressed != w.Compressed || m.Len != w.Len || !bytes.Equal(m.Payload, w.Payload) {
						t.Errorf("%s, %d-byte reads, assemble %v: message %d = {%v %v %d %d bytes}, want {%v %v %d %d bytes}",
							tt.name, k, assemble, i, m.Op, m.Compressed, m.Len, len(m.Payload), w.Op, w.Compressed, w.Len, len(w.Payload))
					}
				}
			}
		}
	}
}

func TestTextIsValidUTF8(t *testing.T) {
	for _, n := range []int{0, 1, 16, 125, 126, 1 << 10, 65536, 1 << 20} {
		p := Text(n, 7)
		if len(p) != n || !frame.ValidUTF8(p) {
			t.Errorf("Text(%d) = %d bytes, valid UTF-8 %v; want %d valid bytes", n, len(p), frame.ValidUTF8(p), n)
		}
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	for _, n := range []int{1, 128, 1 << 10, 64 << 10} {
		p := Text(n, 3)
		got, err := Inflate(Deflate(p))
		if err != nil || !bytes.Equal(got, p) {
			t.Errorf("Inflate(Deflate(%d bytes)) = %d bytes, %v; want the input", n, len(got), err)
		}
	}
}

func TestClientFrame(t *testing.T) {
	fr := ClientFrame(frame.OpText, []byte("Hello"), false)
	want := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58} // RFC 6455, Section 5.7
	if !bytes.Equal(fr, want) {
		t.Errorf("ClientFrame(text, Hello) = % x, want % x", fr, want)
	}
}
