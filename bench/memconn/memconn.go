// Package memconn provides an in-memory net.Conn that replays pre-built
// client frames, and the fake HTTP pieces a library needs to upgrade over it,
// so that a server's read path can be measured without system calls. It does
// no WebSocket framing of its own.
package memconn

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Replay is a net.Conn whose reads return a block of bytes over and over, up
// to a total, and then io.EOF. Writes are counted and dropped. A Replay is
// for one goroutine at a time.
type Replay struct {
	block   []byte
	pos     int   // next byte of block to return
	left    int64 // bytes to return before io.EOF
	Written int64 // bytes written
}

// NewReplay returns a Replay whose reads return total bytes taken from block,
// wrapping around at its end. If block holds whole frames of one size and
// total is a multiple of that size, the reader sees whole frames only.
func NewReplay(block []byte, total int64) *Replay {
	return &Replay{block: block, left: total}
}

// Read copies the next bytes of the replay into p. It makes no system call.
func (r *Replay) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := copy(p, r.block[r.pos:])
	r.pos += n
	if r.pos == len(r.block) {
		r.pos = 0
	}
	r.left -= int64(n)
	return n, nil
}

// Write counts p and drops it.
func (r *Replay) Write(p []byte) (int, error) {
	r.Written += int64(len(p))
	return len(p), nil
}

// Close does nothing.
func (r *Replay) Close() error { return nil }

// LocalAddr and RemoteAddr return a fixed address.
func (r *Replay) LocalAddr() net.Addr  { return addr{} }
func (r *Replay) RemoteAddr() net.Addr { return addr{} }

// SetDeadline, SetReadDeadline and SetWriteDeadline do nothing.
func (r *Replay) SetDeadline(time.Time) error      { return nil }
func (r *Replay) SetReadDeadline(time.Time) error  { return nil }
func (r *Replay) SetWriteDeadline(time.Time) error { return nil }

type addr struct{}

func (addr) Network() string { return "memory" }
func (addr) String() string  { return "memory" }

// Host is the Host and same-origin Origin of [UpgradeRequest].
const Host = "bench.invalid"

// UpgradeRequest returns a valid WebSocket upgrade request for path, as
// net/http would have parsed it, with a same-origin Origin header (x/net's
// websocket.Handler refuses a request without one).
func UpgradeRequest(path string) *http.Request {
	return &http.Request{
		Method:     http.MethodGet,
		URL:        &url.URL{Path: path},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Host:       Host,
		RequestURI: path,
		Header: http.Header{
			"Upgrade":               {"websocket"},
			"Connection":            {"Upgrade"},
			"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
			"Sec-Websocket-Version": {"13"},
			"Origin":                {"http://" + Host},
		},
	}
}

// ResponseWriter is an http.ResponseWriter and http.Hijacker over a
// net.Conn: the status line and header go to the conn when written, and
// Hijack hands over the conn with fresh buffers.
type ResponseWriter struct {
	nc     net.Conn
	header http.Header
	wrote  bool
}

// NewResponseWriter returns a ResponseWriter for nc.
func NewResponseWriter(nc net.Conn) *ResponseWriter {
	return &ResponseWriter{nc: nc, header: http.Header{}}
}

// Header returns the response header.
func (w *ResponseWriter) Header() http.Header { return w.header }

// WriteHeader writes the status line and header to the conn.
func (w *ResponseWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	bw := bufio.NewWriter(w.nc)
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	w.header.Write(bw)
	bw.WriteString("\r\n")
	bw.Flush()
}

// Write writes the header if needed, then p.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.nc.Write(p)
}

// Hijack returns the conn with new buffered reader and writer on it.
func (w *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.nc, bufio.NewReadWriter(bufio.NewReader(w.nc), bufio.NewWriter(w.nc)), nil
}
