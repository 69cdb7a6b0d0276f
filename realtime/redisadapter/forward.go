package redisadapter

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
)

// Defaults for the zero fields of [ForwardOptions].
const (
	DefaultForwardTTL = 15 * time.Second
	// TagLength is the length of the node tag that starts every session
	// id a [Forwarder] makes.
	TagLength = 6
	// ForwardedHeader marks a request one node forwarded to another: it is
	// served where it arrives, never forwarded again.
	ForwardedHeader = "X-Realtime-Forwarded"
)

// ForwardOptions configure a [Forwarder].
type ForwardOptions struct {
	// Address is the URL at which the other nodes reach this node's HTTP
	// server, such as "http://10.0.0.1:8080"; required. Requests are
	// forwarded to it with their path and query unchanged.
	Address string
	// Key is the prefix of the registry keys in Redis
	// (key-node#tag, holding the node's Address); "" means "socket.io".
	Key string
	// TTL is how long a node's entry lasts unless renewed (it is renewed
	// every TTL/3, and deleted by Close); 0 means 15 s. A node that dies
	// without Close is forgotten after TTL.
	TTL time.Duration
	// Transport carries the forwarded requests; nil means a clone of
	// http.DefaultTransport that keeps up to 64 idle connections per node.
	Transport http.RoundTripper
	// OnError, if set, is called with what the forwarder cannot act on:
	// an announcement Redis did not take, a lookup that failed, a
	// forwarded request that failed (then answered where it arrived, as a
	// session this node does not know).
	OnError func(err error)
}

// ForwardStats are counters of a [Forwarder].
type ForwardStats struct {
	Forwarded uint64 // requests sent to the node that owns their session
	Failed    uint64 // of those, the ones that node did not answer
}

// Forwarder lets a cluster of Go nodes serve HTTP long-polling without a
// sticky load balancer: every request of a session, wherever the balancer
// sends it, reaches the node that holds the session. Each node's session
// ids start with its tag (TagLength random URL-safe characters, then 20
// random characters: set realtime.Options.GenerateID to
// [Forwarder.GenerateID]), and each node announces its address under its
// tag in Redis; the handler [Forwarder.Wrap] returns serves the requests
// of this node's sessions and of new sessions, and passes a request for
// another node's session (a polling GET or POST, or the WebSocket upgrade
// of a polling session, which then runs through this node) to that node
// with net/http/httputil's ReverseProxy.
//
// This works between Go nodes only: a Node node's session ids carry no
// tag, and a Node node forwards nothing. A cluster with Node nodes still
// needs sticky sessions for polling (see the package documentation). The
// nodes must reach each other at their Addresses.
type Forwarder struct {
	rdb   *redis.Client
	opts  ForwardOptions
	tag   string
	key   func(tag string) string
	proxy *httputil.ReverseProxy

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	cache map[string]cachedAddr // guarded by mu

	forwarded, failed atomic.Uint64
}

type cachedAddr struct {
	addr    *url.URL // nil: no such node
	expires time.Time
}

// Bounds of the forwarder's cache of other nodes' addresses.
const (
	cacheTTL        = 5 * time.Second
	cacheMissTTL    = time.Second
	cacheMaxEntries = 1024
)

type ctxKey struct{}

// NewForwarder announces this node in Redis under a fresh tag and returns
// its forwarder. Close it after the server.
func NewForwarder(rdb *redis.Client, opts *ForwardOptions) (*Forwarder, error) {
	f := &Forwarder{rdb: rdb, cache: map[string]cachedAddr{}, done: make(chan struct{})}
	if opts != nil {
		f.opts = *opts
	}
	o := &f.opts
	u, err := url.Parse(o.Address)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("redisadapter: ForwardOptions.Address %q is not a URL", o.Address)
	}
	if o.TTL <= 0 {
		o.TTL = DefaultForwardTTL
	}
	key := o.Key
	if key == "" {
		key = "socket.io"
	}
	f.key = func(tag string) string { return key + "-node#" + tag }
	if o.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		o.Transport = t
	}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := pr.In.Context().Value(ctxKey{}).(*url.URL)
			pr.SetURL(target)
			pr.Out.URL.Path, pr.Out.URL.RawPath = pr.In.URL.Path, pr.In.URL.RawPath
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set(ForwardedHeader, "1")
		},
		Transport:     o.Transport,
		FlushInterval: -1, // polling responses go out as the owner writes them
		ErrorLog:      nil,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 10 {
		f.tag = newTag()
		ok, err := rdb.SetNX(ctx, f.key(f.tag), o.Address, o.TTL).Result()
		if err != nil {
			return nil, fmt.Errorf("redisadapter: announce the node: %w", err)
		}
		if ok {
			break
		}
		f.tag = "" // taken: another node's
	}
	if f.tag == "" {
		return nil, errors.New("redisadapter: no free node tag")
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	go f.renew()
	return f, nil
}

func newTag() string {
	var b [TagLength * 3 / 4]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])[:TagLength]
}

// Tag returns this node's tag.
func (f *Forwarder) Tag() string { return f.tag }

// Stats returns the forwarder's counters.
func (f *Forwarder) Stats() ForwardStats {
	return ForwardStats{Forwarded: f.forwarded.Load(), Failed: f.failed.Load()}
}

func (f *Forwarder) report(err error) {
	if f.opts.OnError != nil {
		f.opts.OnError(err)
	}
}

// renew keeps the announcement alive until Close.
func (f *Forwarder) renew() {
	defer close(f.done)
	t := time.NewTicker(f.opts.TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(f.ctx, f.opts.TTL/3)
			err := f.rdb.Set(ctx, f.key(f.tag), f.opts.Address, f.opts.TTL).Err()
			cancel()
			if err != nil && f.ctx.Err() == nil {
				f.report(fmt.Errorf("redisadapter: renew the node's announcement: %w", err))
			}
		case <-f.ctx.Done():
			return
		}
	}
}

// Close stops announcing the node and deletes its entry.
func (f *Forwarder) Close() error {
	f.cancel()
	<-f.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return f.rdb.Del(ctx, f.key(f.tag)).Err()
}

// GenerateID makes a session id of this node: its tag, then 20 random
// URL-safe characters (120 bits, as many as engine's own ids). It is what
// realtime.Options.GenerateID takes.
func (f *Forwarder) GenerateID(*http.Request) (string, error) {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return f.tag + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Wrap returns the handler to serve instead of srv: it passes the requests
// of another node's sessions to that node (see [Forwarder]) and the
// others to srv.
func (f *Forwarder) Wrap(srv *realtime.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if target := f.owner(srv, r); target != nil {
			f.forward(w, r, target, srv)
			return
		}
		srv.ServeHTTP(w, r)
	})
}

// owner returns the address of the node that holds the session of r,
// when it is another node's.
func (f *Forwarder) owner(srv *realtime.Server, r *http.Request) *url.URL {
	if r.Header.Get(ForwardedHeader) != "" {
		return nil
	}
	sid := r.URL.Query().Get("sid")
	if len(sid) <= TagLength || sid[:TagLength] == f.tag || srv.Engine().Session(sid) != nil {
		return nil
	}
	return f.lookup(r.Context(), sid[:TagLength])
}

// lookup returns the address a node announced under tag, nil when none
// did; answers are kept a few seconds.
func (f *Forwarder) lookup(ctx context.Context, tag string) *url.URL {
	now := time.Now()
	f.mu.Lock()
	c, ok := f.cache[tag]
	f.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.addr
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := f.rdb.Get(ctx, f.key(tag)).Result()
	var addr *url.URL
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		f.report(fmt.Errorf("redisadapter: look up node %s: %w", tag, err))
		return nil
	default:
		if addr, err = url.Parse(s); err != nil || addr.Host == "" {
			f.report(fmt.Errorf("redisadapter: node %s announced %q, not a URL", tag, s))
			addr = nil
		}
	}
	ttl := cacheTTL
	if addr == nil {
		ttl = cacheMissTTL
	}
	f.mu.Lock()
	if len(f.cache) >= cacheMaxEntries {
		clear(f.cache)
	}
	f.cache[tag] = cachedAddr{addr, now.Add(ttl)}
	f.mu.Unlock()
	return addr
}

// forward passes r to the node at target; if that node does not answer,
// r is answered here, as a session this node does not know.
func (f *Forwarder) forward(w http.ResponseWriter, r *http.Request, target *url.URL, srv *realtime.Server) {
	f.forwarded.Add(1)
	failed := false
	p := *f.proxy
	p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() != nil {
			return // the client went away: no one to answer
		}
		failed = true
		f.failed.Add(1)
		f.report(fmt.Errorf("redisadapter: forward to %s: %w", target.Host, err))
		f.mu.Lock()
		delete(f.cache, r.URL.Query().Get("sid")[:TagLength])
		f.mu.Unlock()
	}
	p.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, target)))
	if failed {
		srv.ServeHTTP(w, r)
	}
}
