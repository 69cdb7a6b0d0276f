package conn

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/wirelevel/ws/handshake"
)

// AcceptOptions configure the server side of the opening handshake and the
// resulting Conn. A nil *AcceptOptions means the zero value: no
// subprotocols, same-origin browsers only, default limits.
type AcceptOptions struct {
	Options // the Conn's settings

	// Subprotocols lists the supported subprotocols, most preferred first;
	// the first one the client also offers is selected. See RFC 6455,
	// Section 4.2.2.
	Subprotocols []string

	// OriginPatterns lists the origins allowed besides same-origin ones;
	// see [handshake.Server.OriginPatterns] for the syntax. By default a
	// browser page from another origin is refused with 403, which defends
	// against cross-site WebSocket hijacking.
	OriginPatterns []string

	// InsecureSkipOriginCheck accepts every origin. Prefer OriginPatterns.
	InsecureSkipOriginCheck bool

	// HandshakeTimeout bounds the opening handshake: reading the request on
	// the raw path ([Upgrade]) and writing the 101 on both paths. 0 means
	// 10 s.
	HandshakeTimeout time.Duration

	// Limits bounds the request header block (size, field count, line
	// length). The zero value gives handshake's defaults.
	Limits handshake.Limits

	// Header holds extra header fields for the 101 response.
	Header http.Header

	// Compression enables permessage-deflate (RFC 7692) when the client
	// offers it. nil means no compression.
	Compression *CompressionOptions

	// OnRequest, if set, is called on the raw path ([Upgrade]) with the
	// request once it has passed validation, before the 101 is written. The
	// request aliases a buffer that is reused after the call returns. A
	// non-nil error rejects the upgrade: a *handshake.RejectError with its
	// status, anything else with 403.
	OnRequest func(req *handshake.Request) error
}

func (o *AcceptOptions) server() handshake.Server {
	s := handshake.Server{
		Protocols:               o.Subprotocols,
		OriginPatterns:          o.OriginPatterns,
		InsecureSkipOriginCheck: o.InsecureSkipOriginCheck,
		Limits:                  o.Limits,
		Timeout:                 o.handshakeTimeout(),
	}
	return s
}

func (o *AcceptOptions) handshakeTimeout() time.Duration {
	if o.HandshakeTimeout > 0 {
		return o.HandshakeTimeout
	}
	return handshake.DefaultTimeout
}

// Accept upgrades an HTTP/1.1 request to a WebSocket connection. It works
// inside any http.Handler: it validates the request, answers a bad one
// itself with the status the failure calls for (400, 403, 405, 426, 431,
// 505) and returns the error, and otherwise takes over the connection
// through http.ResponseController (so wrapped ResponseWriters work), writes
// 101 Switching Protocols and returns the Conn. After Accept returns, with
// or without an error, the handler must not use w.
//
// Accept also answers WebSocket requests made over HTTP/2 with extended
// CONNECT (RFC 8441), with the same options and limits; see the package
// documentation for how to enable them. Over HTTP/2 the WebSocket is a
// stream of the HTTP/2 connection that ends when the handler returns, so
// the handler must keep running (typically in its read loop) until the
// Conn is done.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	if isExtendedConnect(r) {
		return acceptH2(w, r, opts)
	}
	srv := opts.server()
	up, err := srv.CheckHTTP(r)
	if err != nil {
		var re *handshake.RejectError
		if errors.As(err, &re) {
			re.ServeHTTP(w, r)
		} else {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
		return nil, err
	}
	pmd, err := negotiateServer(opts.Compression, up)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, err
	}
	up.Header = opts.Header
	resp, err := up.AppendResponse(nil)
	if err != nil {
		http.Error(w, "websocket: "+err.Error(), http.StatusInternalServerError)
		return nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		err = fmt.Errorf("conn: take over the HTTP connection: %w", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return nil, err
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		buffered, _ = brw.Reader.Peek(n)
	}
	nc.SetDeadline(time.Time{}) // the HTTP server's deadlines do not apply any more
	if err := writeHandshake(nc, resp, opts.handshakeTimeout()); err != nil {
		nc.Close()
		return nil, err
	}
	c := Server(nc, buffered, &opts.Options)
	c.subprotocol = up.Protocol
	c.setCompression(pmd, up.Extensions)
	return c, nil
}

// Upgrade performs the server side of the opening handshake on a raw
// connection, without net/http: it reads the request within the handshake
// timeout (so a client that trickles its handshake is dropped), validates
// it, writes the 101 or the rejection, and returns the Conn. Bytes the
// client sent after its request are kept for the Conn. On error nc is
// closed.
func Upgrade(nc net.Conn, opts *AcceptOptions) (*Conn, error) {
	if opts == nil {
		opts = &AcceptOptions{}
	}
	srv := opts.server()
	req, rest, err := srv.ReadRequest(nc)
	if err != nil {
		var re *handshake.RejectError
		if errors.As(err, &re) {
			writeHandshake(nc, re.AppendResponse(nil), opts.handshakeTimeout())
		}
		nc.Close()
		return nil, err
	}
	var up handshake.Upgrade
	err = srv.Check(req, &up)
	if err == nil && opts.OnRequest != nil {
		if err = opts.OnRequest(req); err != nil {
			var re *handshake.RejectError
			if !errors.As(err, &re) {
				err = &handshake.RejectError{Status: http.StatusForbidden, Err: err}
			}
		}
	}
	var pmd *pmdParams
	if err == nil {
		pmd, err = negotiateServer(opts.Compression, &up)
		if err != nil {
			err = &handshake.RejectError{Status: http.StatusBadRequest, Err: err}
		}
	}
	if err != nil {
		var re *handshake.RejectError
		if errors.As(err, &re) {
			writeHandshake(nc, re.AppendResponse(nil), opts.handshakeTimeout())
		}
		nc.Close()
		return nil, err
	}
	up.Header = opts.Header
	resp, err := up.AppendResponse(nil)
	if err == nil {
		err = writeHandshake(nc, resp, opts.handshakeTimeout())
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	c := Server(nc, rest, &opts.Options)
	c.subprotocol = up.Protocol
	c.setCompression(pmd, up.Extensions)
	return c, nil
}

// writeHandshake writes a handshake response within timeout.
func writeHandshake(nc net.Conn, b []byte, timeout time.Duration) error {
	nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := nc.Write(b)
	nc.SetWriteDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("conn: write handshake response: %w", err)
	}
	return nil
}
