package realtime

import (
	"encoding/json"
	"regexp"
	"slices"
	"sync"
)

// ParentNamespace makes namespaces on demand (Node's dynamic namespaces):
// when a client asks for a namespace that does not exist and the parent
// accepts the name, it is created as the parent's child. Middleware and
// connection handlers added to the parent apply to every child, before the
// child's own. Get one with [Server.OfFunc] or [Server.OfPattern].
type ParentNamespace struct {
	srv    *Server
	accept func(string, json.RawMessage) bool
	re     *regexp.Regexp

	mu sync.RWMutex
	// guarded by mu
	children map[string]*Namespace
	use      []func(*Socket) error
	onConn   []func(*Socket)
}

func newParent(srv *Server, accept func(string, json.RawMessage) bool, re *regexp.Regexp) *ParentNamespace {
	return &ParentNamespace{srv: srv, accept: accept, re: re, children: map[string]*Namespace{}}
}

func (p *ParentNamespace) accepts(name string, auth json.RawMessage) bool {
	if p.re != nil {
		return p.re.MatchString(name)
	}
	return p.accept(name, auth)
}

// child returns the child namespace called name, creating it.
func (p *ParentNamespace) child(name string) *Namespace {
	s := p.srv
	s.mu.Lock()
	if ns := s.namespaces[name]; ns != nil {
		s.mu.Unlock()
		return ns // created meanwhile
	}
	ns := newNamespace(s, name, p)
	s.namespaces[name] = ns
	listeners := s.onNew
	s.mu.Unlock()
	p.mu.Lock()
	p.children[name] = ns
	p.mu.Unlock()
	ns.adapter.Init()
	for _, fn := range listeners {
		fn(ns)
	}
	return ns
}

func (p *ParentNamespace) removeChild(ns *Namespace) {
	p.mu.Lock()
	if p.children[ns.name] == ns {
		delete(p.children, ns.name)
	}
	p.mu.Unlock()
	p.srv.removeNamespace(ns)
	ns.adapter.Close()
}

// Use adds a middleware run for clients joining any child; see
// [Namespace.Use].
func (p *ParentNamespace) Use(fn func(s *Socket) error) {
	p.mu.Lock()
	p.use = append(slices.Clip(p.use), fn)
	p.mu.Unlock()
}

// OnConnection adds a handler run for every socket joining any child.
func (p *ParentNamespace) OnConnection(fn func(s *Socket)) {
	p.mu.Lock()
	p.onConn = append(slices.Clip(p.onConn), fn)
	p.mu.Unlock()
}

func (p *ParentNamespace) middlewares() []func(*Socket) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.use)
}

func (p *ParentNamespace) connectionHandlers() []func(*Socket) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.onConn)
}

// Children returns the child namespaces, sorted by name.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	out := make([]*Namespace, 0, len(p.children))
	for _, ns := range p.children {
		out = append(out, ns)
	}
	p.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Namespace) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out
}

// Emit sends an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, ns := range p.Children() {
		if err := ns.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

// To sends an event to the sockets in any of the rooms, in every child.
func (p *ParentNamespace) To(rooms ...string) ParentBroadcast {
	return ParentBroadcast{p: p, rooms: rooms}
}

// ParentBroadcast is a broadcast to rooms of every child of a parent
// namespace.
type ParentBroadcast struct {
	p      *ParentNamespace
	rooms  []string
	except []string
}

// Except returns b with more rooms to leave out.
func (b ParentBroadcast) Except(rooms ...string) ParentBroadcast {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Emit sends the event.
func (b ParentBroadcast) Emit(event string, args ...any) error {
	for _, ns := range b.p.Children() {
		if err := ns.To(b.rooms...).Except(b.except...).Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}
