//go:build !unix && !js

package conn

// rawConn is unused on this system: every read goes through net.Conn.
type rawConn struct{ nonblock bool }

func (c *Conn) initRawIO() {}

func (c *Conn) readRaw(int) (int, error)              { panic("conn: raw reads not supported") }
func (c *Conn) readRawInto([]byte) (int, error)       { panic("conn: raw reads not supported") }
func (c *Conn) rawTryWrite(vec [][]byte) (int, error) { return 0, nil }
