//go:build !unix

package conn

// initRawRead does nothing where reads through syscall.RawConn are not
// implemented; every read then goes through net.Conn.Read.
func (c *Conn) initRawRead() {}

func (c *Conn) readRaw(int) (int, error) { panic("conn: raw reads not supported") }
