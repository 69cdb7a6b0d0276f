package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/wirelevel/ws/frame"
)

// Upgrade runs one whole connection against addr, the unit of a connection
// storm: it dials (with TLS if cfg is set), does the opening handshake on
// /echo, sends msg (a whole client frame), reads the echo, sends a close
// frame with code 1000 and reads until the server's close frame (or, from
// a server that does not answer one, the end of the stream). Then it
// closes with a reset, so that a storm leaves no TIME_WAIT behind: the
// closing handshake is done by then.
func Upgrade(ctx context.Context, addr string, cfg *tls.Config, msg []byte) error {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("loadgen: dial: %w", err)
	}
	tcp := raw.(*net.TCPConn)
	defer func() {
		tcp.SetLinger(0)
		tcp.Close()
	}()
	nc := raw
	if cfg != nil {
		tc := tls.Client(raw, cfg)
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fmt.Errorf("loadgen: TLS handshake: %w", err)
		}
		nc = tc
	}
	c, err := handshakeConn(nc, addr, "/echo", "")
	if err != nil {
		return err
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := Exchange(c, msg, nil); err != nil {
		return err
	}
	if _, err := nc.Write(closeFrame); err != nil {
		return fmt.Errorf("loadgen: write close: %w", err)
	}
	s := newScanner(c, 4096, false)
	var m Message
	for {
		switch err := s.next(&m); {
		case errors.Is(err, ErrServerClosed):
			return nil
		case errors.Is(err, io.EOF):
			// x/net's websocket closes TCP without answering the close
			// frame: the connection is over all the same.
			return nil
		case err != nil:
			return fmt.Errorf("loadgen: read close: %w", err)
		}
	}
}

// closeFrame is a masked close frame with code 1000.
var closeFrame = ClientFrame(frame.OpClose, frame.AppendClose(nil, frame.CloseNormal, ""), false)
