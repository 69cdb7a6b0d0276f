package realtime

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/wirelevel/ws/realtime/engineio"
)

// servePoll answers a polling GET: at once with the queued packets, or
// when some arrive. During an upgrade it answers with a noop so the client
// can pause polling; on a closed session, with a close packet.
func (ss *session) servePoll(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	if ss.transport != polling {
		ss.mu.Unlock()
		writeError(w, engineio.BadRequest)
		return
	}
	if ss.pollActive {
		// "the server MUST close the session" on overlapping GETs.
		ss.mu.Unlock()
		ss.close(reasonTransportError, errOverlap, false)
		writeError(w, engineio.BadRequest)
		return
	}
	ss.pollActive = true
	ss.mu.Unlock()
	for {
		ss.mu.Lock()
		switch {
		case ss.transport == websocket || ss.upgrading && ss.probed && len(ss.queue) == 0:
			ss.pollActive = false
			ss.mu.Unlock()
			writePayload(w, noopMsg)
			return
		case len(ss.queue) > 0 || ss.closed:
			q := ss.queue
			ss.queue, ss.queued = nil, 0
			ss.pollActive = false
			closed := ss.closed
			if closed && ss.lingerTimer != nil {
				ss.lingerTimer.Stop()
			}
			ss.mu.Unlock()
			body := appendPolling(nil, q)
			if closed {
				if len(body) > 0 {
					body = append(body, engineio.Separator)
				}
				body = append(body, closeMsg...)
				ss.srv.remove(ss)
			}
			writePayload(w, body)
			return
		}
		ss.mu.Unlock()
		select {
		case <-ss.pollWake:
		case <-r.Context().Done():
			ss.mu.Lock()
			ss.pollActive = false
			ss.mu.Unlock()
			return
		}
	}
}

// appendPolling appends messages as a polling payload: text packets as they
// are, binary ones as "b" and base64, separated by 0x1e.
func appendPolling(dst []byte, msgs []wireMsg) []byte {
	for i, m := range msgs {
		if i > 0 {
			dst = append(dst, engineio.Separator)
		}
		if m.binary {
			dst = append(dst, 'b')
			dst = base64.StdEncoding.AppendEncode(dst, m.data)
		} else {
			dst = append(dst, m.data...)
		}
	}
	return dst
}

func writePayload(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// servePost takes a polling POST: a payload of packets from the client, at
// most MaxPayload bytes.
func (ss *session) servePost(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	switch {
	case ss.closed:
		ss.mu.Unlock()
		writeError(w, engineio.UnknownSID)
		return
	case ss.transport != polling:
		ss.mu.Unlock()
		writeError(w, engineio.BadRequest)
		return
	case ss.postActive:
		ss.mu.Unlock()
		ss.close(reasonTransportError, errOverlap, false)
		writeError(w, engineio.BadRequest)
		return
	}
	ss.postActive = true
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		ss.postActive = false
		ss.mu.Unlock()
	}()
	max := ss.srv.opts.MaxPayload
	if r.ContentLength > max {
		ss.close(reasonTransportError, ErrPayloadTooLarge, false)
		writeErrorStatus(w, engineio.BadRequest, http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		ss.close(reasonTransportError, err, false)
		writeError(w, engineio.BadRequest)
		return
	}
	if int64(len(body)) > max {
		ss.close(reasonTransportError, ErrPayloadTooLarge, false)
		writeErrorStatus(w, engineio.BadRequest, http.StatusRequestEntityTooLarge)
		return
	}
	err = engineio.ParsePayload(body, 0, ss.onPacket)
	if err != nil && !errors.Is(err, errSessionEnded) {
		ss.close(reasonParseError, err, false)
		writeError(w, engineio.BadRequest)
		return
	}
	// text/html, as the reference server, so that old browsers do not
	// sniff the body.
	w.Header().Set("Content-Type", "text/html")
	w.Write([]byte("ok"))
}
