// Package libs wraps this library and each peer behind the same small set of
// servers: echo, compressed echo, broadcast, and an in-memory read path. Each
// library is used through its public API the way its documentation shows,
// with default settings except the message size limit, which is raised to
// 16 MiB everywhere. It does no measuring; package bench does.
package libs

import (
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
)

// ReadLimit is the message size limit every library is given.
const ReadLimit = 16 << 20

// Lib is one WebSocket library under test.
type Lib struct {
	// Name is the short name used in flags, tables and benchmark names.
	Name string
	// Peer is false for this library (and its variants).
	Peer bool
	// Baseline marks a server that is no WebSocket library: the raw TCP
	// echo, the physical limit of the machine, which ratios are also
	// taken against. It is neither ours nor a peer.
	Baseline bool
	// Raw marks a variant served on a raw listener, without net/http.
	// Raw variants run by default only in the connection-storm workload,
	// where the cost of net/http is what they avoid.
	Raw bool
	// Default reports whether the library runs when no -libs are given.
	Default bool
	// Module is the module and version, or a note for this library.
	Module string
	// API says which calls the servers use.
	API string
	// UTF8 reports whether text messages are checked for valid UTF-8 with
	// the settings used here (the library's defaults).
	UTF8 bool
	// Deflate lists the permessage-deflate variants, served at
	// /deflate/{variant}; nil if the library is left out of the compression
	// workload.
	Deflate []string

	newServer func() *Server
	readPath  func(nc net.Conn, ready func()) (int, error)
}

// Server is one library's set of servers, for one process.
type Server struct {
	// Handler serves /echo, /broadcast, /broadcast/deflate (if the library
	// compresses) and /deflate/{variant}.
	Handler http.Handler
	// Serve, if set, serves ln itself instead of net/http serving Handler.
	Serve func(ln net.Listener) error
	// Hub holds the connections made to /broadcast.
	Hub Hub
}

// Hub is a set of connections a server broadcasts to.
type Hub interface {
	// Len returns the number of connections.
	Len() int
	// Broadcast sends msg as one text message to every connection, with
	// the library's broadcast feature if it has one. It may return before
	// the last write completes if the library writes asynchronously.
	Broadcast(msg []byte) error
}

// Compresses reports whether l supports permessage-deflate.
func (l *Lib) Compresses() bool { return len(l.Deflate) > 0 }

// HasReadPath reports whether l takes part in the in-memory read path.
func (l *Lib) HasReadPath() bool { return l.readPath != nil }

// NewServer returns fresh servers for l.
func (l *Lib) NewServer() *Server { return l.newServer() }

// ReadPath upgrades the server end nc (whose reads replay client frames, see
// package memconn), calls ready once the upgrade is done and reads messages
// until nc runs dry, with the same read calls the echo server makes. It
// returns the number of whole messages read.
func (l *Lib) ReadPath(nc net.Conn, ready func()) (int, error) { return l.readPath(nc, ready) }

// All lists every library, this library first.
var All = []*Lib{ours, oursQueue, oursPoll, oursRaw, gorillaLib, coderLib, gobwasLib, gobwasRaw, gwsLib, gwsUTF8, gwsRaw, xnetLib, tcpLib}

// Lookup returns the library named name, or nil.
func Lookup(name string) *Lib {
	for _, l := range All {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Defaults lists the libraries that run when none are named.
func Defaults() []*Lib {
	var ls []*Lib
	for _, l := range All {
		if l.Default {
			ls = append(ls, l)
		}
	}
	return ls
}

// readAll reads r to its end into dst[:0], growing dst as needed, so that an
// echo server can reuse one buffer across messages.
func readAll(dst []byte, r io.Reader) ([]byte, error) {
	dst = dst[:0]
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, max(4096, len(dst)))
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// set is the connection registry every Hub uses, so the bookkeeping costs the
// same for all libraries.
type set[T comparable] struct {
	mu    sync.Mutex
	conns map[T]struct{}
	list  []T // snapshot for broadcasting, rebuilt after a change
	dirty bool
}

func (s *set[T]) add(c T) {
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[T]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.dirty = true
	s.mu.Unlock()
}

func (s *set[T]) remove(c T) {
	s.mu.Lock()
	delete(s.conns, c)
	s.dirty = true
	s.mu.Unlock()
}

func (s *set[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// snapshot returns the connections; the slice must not be changed.
func (s *set[T]) snapshot() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty {
		s.list = make([]T, 0, len(s.conns))
		for c := range s.conns {
			s.list = append(s.list, c)
		}
		s.dirty = false
	}
	return s.list
}

// each calls write for every connection and returns the first error.
func each[T comparable](s *set[T], write func(T) error) error {
	var first error
	for _, c := range s.snapshot() {
		if err := write(c); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// mux builds the standard handler set. broadcastDeflate, which serves
// broadcast connections with permessage-deflate, may be nil.
func mux(echo, broadcast, broadcastDeflate http.HandlerFunc, deflate map[string]http.HandlerFunc) *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/echo", echo)
	m.HandleFunc("/broadcast", broadcast)
	if broadcastDeflate != nil {
		m.HandleFunc("/broadcast/deflate", broadcastDeflate)
	}
	for v, h := range deflate {
		m.HandleFunc("/deflate/"+v, h)
	}
	return m
}
