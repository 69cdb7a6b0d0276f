package redisadapter

import (
	"sync"
	"time"
)

// request is a request of this node waiting for other nodes' answers.
type request interface {
	comparable
	end() // stops the wait: the adapter is closing
}

func (p *pending) end()        { close(p.done) }
func (p *clusterRequest) end() { close(p.done) }

// requestTable holds a node's requests waiting for other nodes' answers
// (R: the classic or the cluster adapter's request) and its broadcasts
// waiting for acknowledgements, under one mutex, with the ids they go by.
type requestTable[R request] struct {
	mu sync.Mutex
	// guarded by mu
	requests map[string]R           // counted requests waiting for answers
	acks     map[string]*ackRequest // broadcasts with acknowledgements
	closed   bool

	newID func() string // the id format of the adapter's wire protocol
}

func newRequestTable[R request](newID func() string) requestTable[R] {
	return requestTable[R]{requests: map[string]R{}, acks: map[string]*ackRequest{}, newID: newID}
}

// registerAck keeps an ack request for timeout (def if 0), as the Node
// adapters keep one for flags.timeout, and returns its id; false once the
// adapter is closed.
func (t *requestTable[R]) registerAck(r *ackRequest, timeout, def time.Duration) (string, bool) {
	if timeout <= 0 {
		timeout = def
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return "", false
	}
	id := t.newRequestIDLocked()
	t.acks[id] = r
	time.AfterFunc(timeout, func() {
		t.mu.Lock()
		delete(t.acks, id)
		t.mu.Unlock()
	})
	return id, true
}

// newRequestIDLocked returns an id no request or ack waiting uses.
func (t *requestTable[R]) newRequestIDLocked() string {
	var zero R
	for {
		id := t.newID()
		if t.requests[id] == zero && t.acks[id] == nil {
			return id
		}
	}
}

// endAllLocked ends every request and forgets every ack request, as the
// adapter closes.
func (t *requestTable[R]) endAllLocked() {
	for id, r := range t.requests {
		delete(t.requests, id)
		r.end()
	}
	clear(t.acks)
}
