package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
	"github.com/wirelevel/ws/internal/tlscert"
)

// listenAddr returns the address to listen on for a ws:// or wss:// URL.
func listenAddr(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "wss" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// serverTLS returns the TLS configuration of a wss:// server: the -c/-k
// certificate, else a self-signed one for the URL's host and the loopback
// names.
func serverTLS(cfg config, u *url.URL, h2 bool) (*tls.Config, string, error) {
	var cert tls.Certificate
	var err error
	what := "the certificate of -c/-k"
	switch {
	case cfg.cert != "" || cfg.key != "":
		if cfg.cert == "" || cfg.key == "" {
			return nil, "", usagef("-c and -k go together")
		}
		if cert, err = tls.LoadX509KeyPair(cfg.cert, cfg.key); err != nil {
			return nil, "", fmt.Errorf("-c/-k: %w", err)
		}
	default:
		what = "a self-signed certificate made now"
		if cert, _, err = tlscert.SelfSigned(u.Hostname(), "localhost", "127.0.0.1", "::1"); err != nil {
			return nil, "", err
		}
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	if h2 {
		tc.NextProtos = []string{"h2", "http/1.1"}
	}
	return tc, what, nil
}

// serveWS serves handler at the -w URL until ctx ends: HTTP/1.1 and
// HTTP/2 (h2 by ALPN over TLS, h2c with prior knowledge without), then
// calls shutdown and stops the server.
func serveWS(ctx context.Context, cfg config, name string, handler http.Handler, shutdown func(context.Context), stdout io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	secure := u.Scheme == "wss"
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, Protocols: new(http.Protocols)}
	hs.Protocols.SetHTTP1(true)
	if !cfg.debug {
		hs.ErrorLog = log.New(io.Discard, "", 0)
	}
	what := ""
	if secure {
		tc, w, err := serverTLS(cfg, u, true)
		if err != nil {
			return err
		}
		hs.TLSConfig, what = tc, " with "+w
		hs.Protocols.SetHTTP2(true)
	} else {
		hs.Protocols.SetUnencryptedHTTP2(true)
	}
	ln, err := net.Listen("tcp", listenAddr(u))
	if err != nil {
		return err
	}
	h2 := "HTTP/2 without extended CONNECT (start with GODEBUG=http2xconnect=1)"
	if xconnect() {
		h2 = "HTTP/2 with extended CONNECT (RFC 8441)"
	}
	fmt.Fprintf(stdout, "wstest: %s listening on %s://%s%s (HTTP/1.1 upgrades and %s); Ctrl-C to stop\n", name, u.Scheme, ln.Addr(), what, h2)
	errc := make(chan error, 1)
	go func() {
		if secure {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if shutdown != nil {
		shutdown(sctx)
	}
	hs.Shutdown(sctx)
	fmt.Fprintf(stdout, "wstest: %s stopped\n", name)
	return nil
}

// logged wraps a handler with a line per WebSocket connection (-d).
func logged(cfg config, name string, h http.Handler, stdout io.Writer) http.Handler {
	if !cfg.debug {
		return h
	}
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdout, "wstest: %s: %s %s %s from %s, %v\n", name, r.Proto, r.Method, r.URL, r.RemoteAddr, time.Since(start).Round(time.Millisecond))
	})
}

func echoServer(ctx context.Context, cfg config, stdout io.Writer) error {
	es := &echo.Server{}
	return serveWS(ctx, cfg, "echo server", logged(cfg, "echo server", es, stdout), func(c context.Context) { es.Shutdown(c) }, stdout)
}

// testeeServer is the suite's testeeserver: an echo server that accepts
// permessage-deflate, named by -i in its Server header.
func testeeServer(ctx context.Context, cfg config, stdout io.Writer) error {
	name := cfg.ident
	if name == "" {
		name = "wirelevel-testeeserver"
	}
	opts := echo.ServerOptions()
	opts.Header = http.Header{"Server": {name}}
	es := &echo.Server{Options: opts}
	return serveWS(ctx, cfg, "testee server "+name, logged(cfg, "testee server", es, stdout), func(c context.Context) { es.Shutdown(c) }, stdout)
}

// broadcaster is the suite's broadcastserver: every message a client sends
// goes to every client, and "tick N" every second.
type broadcaster struct {
	group conn.Group
	page  http.Handler
}

func (b *broadcaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !echo.IsWebSocketRequest(r) {
		b.page.ServeHTTP(w, r)
		return
	}
	opts := echo.ServerOptions()
	c, err := conn.Accept(w, r, opts)
	if err != nil {
		return
	}
	b.group.Add(c)
	defer b.group.Remove(c)
	defer c.CloseNow()
	for {
		typ, msg, err := c.ReadMessage(r.Context(), nil)
		if err != nil {
			return
		}
		b.broadcast(typ, msg)
	}
}

func (b *broadcaster) broadcast(typ conn.MessageType, msg []byte) {
	pm, err := conn.NewPreparedMessage(typ, msg)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.group.Broadcast(ctx, pm)
}

func broadcastServer(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	data := map[string]string{"URL": u.String()}
	b := &broadcaster{page: pageHandler(broadcastPage, data)}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				b.broadcast(conn.Text, fmt.Appendf(nil, "tick %d", n))
			}
		}
	}()
	stopWeb, err := startWeb(ctx, cfg, webPortFor(cfg, nil), u.Hostname(), u.Scheme == "wss", webSite{"/": b.page}, stdout, stderr, nil)
	if err != nil {
		return err
	}
	defer stopWeb()
	return serveWS(ctx, cfg, "broadcast server", logged(cfg, "broadcast server", b, stdout), func(c context.Context) { b.group.Shutdown(c, "server shutting down") }, stdout)
}
