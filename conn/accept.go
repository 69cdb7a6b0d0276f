//go:build !js

package conn

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
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

	// CheckOrigin, if set, decides alone which requests may connect, in
	// place of the same-origin rule, OriginPatterns and
	// InsecureSkipOriginCheck, as gorilla's Upgrader.CheckOrigin does: it
	// is called with every request that passed the other checks, with or
	// without an Origin header, and false refuses it with 403
	// ([handshake.ErrOrigin]). On the raw path ([Upgrade]) r is built from
	// the request read: method, URL, Host, header fields and RemoteAddr.
	// A CheckOrigin that returns true for every request turns the defence
	// against cross-site WebSocket hijacking off; prefer OriginPatterns.
	CheckOrigin func(r *http.Request) bool

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

	// OnRequest, if set, is called with the request once it has passed
	// validation and the origin check, before the answer is written, on
	// every path: Accept (HTTP/1.1 and HTTP/2, where req is a copy of the
	// request line and header fields of the *http.Request) and Upgrade.
	// The request aliases a buffer that is reused after the call returns.
	// A non-nil error rejects the upgrade: a *handshake.RejectError with
	// its status, anything else with 403.
	OnRequest func(req *handshake.Request) error

	// OnReject, if set, writes the answer to a request that Accept
	// refuses, in place of the plain-text one, as gorilla's Upgrader.Error
	// does: status is the HTTP status the failure calls for and err the
	// reason (a *handshake.RejectError for a request that failed a check,
	// with errors.Is(err, handshake.ErrOrigin) for the origin). Header
	// fields the status requires (Sec-WebSocket-Version: 13 with 426,
	// Allow: GET with 405) are already set in w.Header(). Accept returns
	// err after the call. On the raw path ([Upgrade]), which has no
	// ResponseWriter, it is not called.
	OnReject func(w http.ResponseWriter, r *http.Request, status int, err error)
}

func (o *AcceptOptions) server() handshake.Server {
	s := handshake.Server{
		Protocols:               o.Subprotocols,
		OriginPatterns:          o.OriginPatterns,
		InsecureSkipOriginCheck: o.InsecureSkipOriginCheck || o.CheckOrigin != nil,
		Limits:                  o.Limits,
		Timeout:                 o.handshakeTimeout(),
	}
	return s
}

// admit applies CheckOrigin and OnRequest to a request that passed the
// handshake checks. r is nil on the raw path, where CheckOrigin gets a
// request built from req.
func (o *AcceptOptions) admit(req *handshake.Request, r *http.Request, nc net.Conn) error {
	if o.CheckOrigin != nil {
		if r == nil {
			r = httpRequest(req, nc)
		}
		if !o.CheckOrigin(r) {
			return &handshake.RejectError{Status: http.StatusForbidden, Err: handshake.ErrOrigin}
		}
	}
	if o.OnRequest != nil {
		if err := o.OnRequest(req); err != nil {
			var re *handshake.RejectError
			if !errors.As(err, &re) {
				err = &handshake.RejectError{Status: http.StatusForbidden, Err: err}
			}
			return err
		}
	}
	return nil
}

// reject answers a request Accept refuses: with OnReject if set, else
// with the RejectError's own answer or a plain-text one with status.
func (o *AcceptOptions) reject(w http.ResponseWriter, r *http.Request, status int, err error) {
	var re *handshake.RejectError
	if errors.As(err, &re) {
		if o.OnReject == nil {
			re.ServeHTTP(w, r)
			return
		}
		status = re.Status
		for k, vs := range re.Header {
			w.Header()[http.CanonicalHeaderKey(k)] = vs
		}
	}
	if o.OnReject != nil {
		o.OnReject(w, r, status, err)
		return
	}
	http.Error(w, err.Error(), status)
}

// httpRequest builds the *http.Request CheckOrigin is given on the raw
// path.
func httpRequest(req *handshake.Request, nc net.Conn) *http.Request {
	r := &http.Request{
		Method:     string(req.Method),
		RequestURI: string(req.Target),
		Proto:      string(req.Proto),
		Header:     make(http.Header, len(req.Header)),
		RemoteAddr: nc.RemoteAddr().String(),
	}
	r.ProtoMajor, r.ProtoMinor, _ = http.ParseHTTPVersion(r.Proto)
	for _, f := range req.Header {
		r.Header.Add(string(f.Name), string(f.Value))
	}
	r.Host = r.Header.Get("Host")
	r.Header.Del("Host")
	r.URL, _ = url.ParseRequestURI(r.RequestURI)
	if r.URL == nil {
		r.URL = &url.URL{Path: "/"}
	}
	return r
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
// 505), or through [AcceptOptions.OnReject], and returns the error, and
// otherwise takes over the connection
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
	if err == nil {
		err = opts.admit(up.Request, r, nil)
	}
	if err != nil {
		opts.reject(w, r, http.StatusBadRequest, err)
		return nil, err
	}
	pmd, err := negotiateServer(opts.Compression, up)
	if err != nil {
		opts.reject(w, r, http.StatusBadRequest, err)
		return nil, err
	}
	up.Header = opts.Header
	st := getUpgradeState()
	defer putUpgradeState(st)
	resp, err := up.AppendResponse(st.resp[:0])
	if err != nil {
		opts.reject(w, r, http.StatusInternalServerError, err)
		return nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		err = fmt.Errorf("conn: take over the HTTP connection: %w", err)
		opts.reject(w, r, http.StatusInternalServerError, err)
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
	// The request, its buffer and the answer are borrowed for the
	// handshake: nothing that outlives Upgrade aliases them (Server copies
	// rest, OnRequest may not keep req, CheckOrigin gets a copy).
	st := getUpgradeState()
	defer putUpgradeState(st)
	st.borrowBuf(opts.Limits.MaxHeaderBytes)
	srv := opts.server()
	req, up := &st.req, &st.up
	rest, err := srv.ReadRequestInto(nc, *st.buf, req)
	if err != nil {
		var re *handshake.RejectError
		if errors.As(err, &re) {
			writeHandshake(nc, re.AppendResponse(st.resp[:0]), opts.handshakeTimeout())
		}
		nc.Close()
		return nil, err
	}
	err = srv.Check(req, up)
	if err == nil {
		err = opts.admit(req, nil, nc)
	}
	var pmd *pmdParams
	if err == nil {
		pmd, err = negotiateServer(opts.Compression, up)
		if err != nil {
			err = &handshake.RejectError{Status: http.StatusBadRequest, Err: err}
		}
	}
	if err != nil {
		var re *handshake.RejectError
		if errors.As(err, &re) {
			writeHandshake(nc, re.AppendResponse(st.resp[:0]), opts.handshakeTimeout())
		}
		nc.Close()
		return nil, err
	}
	up.Header = opts.Header
	resp, err := up.AppendResponse(st.resp[:0])
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

// upgradeState is what Upgrade borrows for one handshake: the request's
// buffer (from the buffer pool), the parsed request and its Header
// storage, the checked upgrade and room for the answer; Accept borrows
// the room for the answer.
type upgradeState struct {
	buf  *[]byte
	req  handshake.Request
	up   handshake.Upgrade
	resp [512]byte
}

var upgradeStates sync.Pool

// getUpgradeState returns an upgradeState without a buffer.
func getUpgradeState() *upgradeState {
	st, _ := upgradeStates.Get().(*upgradeState)
	if st == nil {
		st = &upgradeState{req: handshake.Request{Header: make([]handshake.Field, 0, 16)}}
	}
	return st
}

// borrowBuf borrows a buffer for a request of up to maxHeader bytes
// (handshake.Limits.MaxHeaderBytes, 0 for its default).
func (st *upgradeState) borrowBuf(maxHeader int) {
	if maxHeader <= 0 {
		maxHeader = handshake.DefaultMaxHeaderBytes
	}
	st.buf = getBuf(maxHeader)
}

// putUpgradeState gives st back, dropping what it refers to but its
// storage.
func putUpgradeState(st *upgradeState) {
	if st.buf != nil {
		putBuf(st.buf)
		st.buf = nil
	}
	clear(st.req.Header)
	st.req = handshake.Request{Header: st.req.Header[:0]}
	clear(st.up.Offers)
	st.up = handshake.Upgrade{Offers: st.up.Offers[:0]}
	if cap(st.req.Header) > 128 || cap(st.up.Offers) > 32 {
		return // grown by an unusual request: let it go
	}
	upgradeStates.Put(st)
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
