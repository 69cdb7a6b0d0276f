// Package wsjson reads and writes JSON values as WebSocket text messages,
// one value per message, as coder/websocket's wsjson does. It leaves
// streaming out: a value is encoded into, or decoded from, a whole message
// in memory.
//
// Limits: a message read is held whole while it is decoded, so its size is
// bounded by the Conn's read limit ([conn.Options.ReadLimit], 16 MiB by
// default); a value written is marshalled whole before it is sent. Read
// accepts text messages only. A message that is not valid JSON for v, or a
// binary one, is an error of Read's, not of the connection: the message
// has been read whole, so the Conn stays usable. Errors of the connection
// are returned as the Conn gives them.
package wsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/wirelevel/ws/conn"
)

// ErrBinary is returned by [Read] for a binary message.
var ErrBinary = errors.New("wsjson: binary message, want text")

// bufs holds read and write buffers of up to maxPooled bytes.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 64 << 10

// Read reads the next message from c and unmarshals it into v with
// encoding/json. It returns [ErrBinary] for a binary message and a wrapped
// *json.SyntaxError or similar for one that does not decode; both leave the
// connection open. ctx is passed to [conn.Conn.ReadMessage].
func Read(ctx context.Context, c *conn.Conn, v any) error {
	pb := bufs.Get().(*[]byte)
	defer func() {
		if cap(*pb) <= maxPooled {
			bufs.Put(pb)
		}
	}()
	typ, msg, err := c.ReadMessage(ctx, *pb)
	*pb = msg[:0]
	if err != nil {
		return err
	}
	if typ != conn.Text {
		return ErrBinary
	}
	if err := json.Unmarshal(msg, v); err != nil {
		return fmt.Errorf("wsjson: decode: %w", err)
	}
	return nil
}

// Write marshals v with encoding/json and sends it as one text message
// with [conn.Conn.WriteMessage], without the newline json.Encoder adds.
func Write(ctx context.Context, c *conn.Conn, v any) error {
	pb := bufs.Get().(*[]byte)
	defer func() {
		if cap(*pb) <= maxPooled {
			bufs.Put(pb)
		}
	}()
	buf := bytes.NewBuffer((*pb)[:0])
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return fmt.Errorf("wsjson: encode: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	*pb = b[:0]
	return c.WriteMessage(ctx, conn.Text, b)
}
