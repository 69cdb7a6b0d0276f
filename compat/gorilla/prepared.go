package websocket

import "github.com/wirelevel/ws/conn"

// PreparedMessage caches on the wire representations of a message
// payload. Use PreparedMessage to efficiently send a message payload to
// multiple connections. It is conn's PreparedMessage: a server connection
// sends the frame encoded once, compressed once per window size.
type PreparedMessage struct {
	pm   *conn.PreparedMessage // nil for a control message
	typ  int
	data []byte
}

// NewPreparedMessage returns an initialized PreparedMessage. You can then
// send it to connection using WritePreparedMessage method.
func NewPreparedMessage(messageType int, data []byte) (*PreparedMessage, error) {
	if isControl(messageType) {
		if len(data) > 125 {
			return nil, errInvalidControlFrame
		}
		return &PreparedMessage{typ: messageType, data: append([]byte(nil), data...)}, nil
	}
	typ, ok := dataType(messageType)
	if !ok {
		return nil, errBadWriteOpCode
	}
	pm, err := conn.NewPreparedMessage(typ, data)
	if err != nil {
		return nil, err
	}
	return &PreparedMessage{pm: pm, typ: messageType}, nil
}

// BufferPool represents a pool of buffers. The *sync.Pool type satisfies
// this interface. The type of the value stored in a pool is not specified.
//
// Upgrader.WriteBufferPool and Dialer.WriteBufferPool are accepted and not
// used: a Conn borrows its read and write buffers from pools of its own
// while a message is in flight, and holds none while idle.
type BufferPool interface {
	// Get gets a value from the pool or returns nil if the pool is empty.
	Get() any
	// Put adds a value to the pool.
	Put(any)
}
