//go:build !js

package conn

import (
	"fmt"

	"github.com/wirelevel/ws/deflate"
)

// Compression control at run time: a per-connection switch on top of the
// per-message [Uncompressed] flag, and the level.

// EnableWriteCompression turns permessage-deflate on or off for the
// messages this Conn sends from now on, as gorilla/websocket's method of
// the same name does; it is on by default. Off, every message goes out
// as if its type carried [Uncompressed]: RSV1 clear, the compressor's
// context left as it was, so turning it on again later is safe. A message
// being written with NextWriter keeps the setting it started with. On a
// connection that did not negotiate permessage-deflate it changes nothing.
// It is safe to call from any goroutine.
func (c *Conn) EnableWriteCompression(enable bool) { c.noCompress.Store(!enable) }

// SetCompressionLevel changes the DEFLATE level, 1 (fastest) to 9
// (smallest), of the messages this Conn compresses from the next one on;
// the window and, with context takeover, the history are kept, so the
// peer notices nothing. A message under way keeps its level. It returns an
// error for a level outside 1 to 9, and does nothing on a connection that
// did not negotiate permessage-deflate. It is safe to call from any
// goroutine and never waits. A [PreparedMessage] is compressed once for
// all the connections that share a window size, at the level of the first
// one that sends it.
func (c *Conn) SetCompressionLevel(level int) error {
	if level < int(deflate.LevelFast) || level > int(deflate.LevelBest) {
		return fmt.Errorf("conn: compression level %d out of range 1-9", level)
	}
	c.level.Store(int32(level))
	return nil
}

// compressing reports whether a message that may be compressed (by its
// type) is compressed on this Conn, and brings the compressor to the level
// last asked for. Called with msgMu held, before a message starts.
func (c *Conn) compressing(compress bool) bool {
	if c.comp == nil || !compress || c.noCompress.Load() {
		return false
	}
	if l := deflate.Level(c.level.Load()); l != c.compNow && c.comp.SetLevel(l) == nil {
		c.compNow = l
	}
	return true
}

// mayCompress is compressing without msgMu, for prepared messages: it
// changes nothing.
func (c *Conn) mayCompress(compress bool) bool {
	return c.comp != nil && compress && !c.noCompress.Load()
}
