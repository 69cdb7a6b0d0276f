package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wirelevel/ws/conn"
)

// maxErrorBody bounds how much of an error response the client reads.
const maxErrorBody = 512

// requestURL returns the URL of an Engine.IO request: the server URL with
// the path, the query of the URL given to [New], EIO=4, the transport, the
// session id once there is one and, for polling, a cache-busting t.
func (c *Client) requestURL(tr Transport, sid string) *url.URL {
	q := make(url.Values, len(c.query)+3)
	for k, v := range c.query {
		q[k] = v
	}
	q.Set("transport", string(tr))
	if sid != "" {
		q.Set("sid", sid)
	}
	u := c.base // a copy
	if tr == Polling {
		q.Set("t", strconv.FormatUint(c.stamp.Add(1), 36))
	} else if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.RawQuery = q.Encode()
	return &u
}

// cookieURL is the URL the cookie jar files the server's cookies under.
func (c *Client) cookieURL() *url.URL {
	u := c.base
	u.RawQuery = ""
	return &u
}

// cookieHeader returns the Cookie header for a request: the one in
// Options.Dial.Header, if any, and the jar's cookies.
func (c *Client) cookieHeader() string {
	var b strings.Builder
	for _, v := range c.opts.Dial.Header.Values("Cookie") {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v)
	}
	if c.jar != nil {
		for _, ck := range c.jar.Cookies(c.cookieURL()) {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(ck.Name + "=" + ck.Value)
		}
	}
	return b.String()
}

// dialWS opens a WebSocket for a new session (sid "") or to upgrade one,
// with the jar's cookies.
func (c *Client) dialWS(ctx context.Context, sid string) (*conn.Conn, error) {
	opts := c.opts.Dial
	if ck := c.cookieHeader(); ck != "" {
		opts.Header = opts.Header.Clone()
		if opts.Header == nil {
			opts.Header = http.Header{}
		}
		opts.Header.Set("Cookie", ck)
	}
	return conn.Dial(ctx, c.requestURL(WebSocket, sid).String(), &opts)
}

// newRequest returns a polling request with the headers and cookies of the
// options.
func (c *Client) newRequest(ctx context.Context, method string, sid string, body []byte) *http.Request {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, c.requestURL(Polling, sid).String(), r)
	for k, v := range c.opts.Dial.Header {
		if k != "Cookie" {
			req.Header[k] = v
		}
	}
	if c.opts.Dial.Origin != "" {
		req.Header.Set("Origin", c.opts.Dial.Origin)
	}
	if ck := c.cookieHeader(); ck != "" {
		req.Header.Set("Cookie", ck)
	}
	req.Header.Set("Accept", "*/*")
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	return req
}

// keepCookies files the cookies a response sets.
func (c *Client) keepCookies(resp *http.Response) {
	if c.jar != nil {
		if cks := resp.Cookies(); len(cks) > 0 {
			c.jar.SetCookies(c.cookieURL(), cks)
		}
	}
}

// get does one polling GET and returns its body, at most MaxPayload bytes.
// It stops at the heartbeat deadline, when ctx is done or when the engine
// fails. Its errors are *DisconnectError, or ctx's error.
func (e *engine) get(ctx context.Context) ([]byte, error) {
	c := e.c
	var rctx context.Context
	var cancel context.CancelFunc
	if e.deadline.IsZero() {
		rctx, cancel = context.WithCancel(e.ctx)
	} else {
		rctx, cancel = context.WithDeadline(e.ctx, e.deadline)
	}
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	fail := func(err error) ([]byte, error) {
		switch {
		case e.failed() != nil:
			return nil, e.failed()
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case !e.deadline.IsZero() && !time.Now().Before(e.deadline):
			return nil, e.fail(ReasonPingTimeout, ErrPingTimeout)
		}
		return nil, e.fail(ReasonTransportError, err)
	}
	resp, err := c.httpc.Do(c.newRequest(rctx, http.MethodGet, e.hs.SID, nil))
	if err != nil {
		return fail(fmt.Errorf("client: polling GET: %w", err))
	}
	defer resp.Body.Close()
	c.keepCookies(resp)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return fail(newStatusError(http.MethodGet, resp.StatusCode, b))
	}
	limit := c.opts.MaxPayload
	if resp.ContentLength > limit {
		return fail(fmt.Errorf("%w: Content-Length %d, limit %d", ErrTooLarge, resp.ContentLength, limit))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fail(fmt.Errorf("client: polling GET: %w", err))
	}
	if int64(len(body)) > limit {
		return fail(fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit))
	}
	if err := checkBody(body); err != nil {
		return fail(err)
	}
	return body, nil
}

// post does one polling POST, bounded by the write timeout.
func (e *engine) post(body []byte) error {
	c := e.c
	ctx, cancel := context.WithTimeout(e.ctx, c.opts.Dial.WriteTimeout)
	defer cancel()
	resp, err := c.httpc.Do(c.newRequest(ctx, http.MethodPost, e.hs.SID, body))
	if err != nil {
		return fmt.Errorf("client: polling POST: %w", err)
	}
	defer resp.Body.Close()
	c.keepCookies(resp)
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode != http.StatusOK {
		return newStatusError(http.MethodPost, resp.StatusCode, b)
	}
	return nil
}

// newHTTPClient returns the HTTP client of the polling transport when
// Options.HTTPClient is nil: its own connection pool, with the TLS
// configuration, proxy and dialer of Options.Dial.
func newHTTPClient(o *Options) *http.Client {
	proxy := o.Dial.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	dial := o.Dial.NetDialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		TLSClientConfig:       o.Dial.TLSConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   2, // one GET and one POST
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr}
}
