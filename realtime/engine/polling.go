package engine

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wirelevel/ws/realtime/engineio"
)

// servePoll answers a polling GET: at once with the queued packets, or
// when some arrive. During an upgrade it answers with a noop so the client
// can pause polling; when the client closed the session meanwhile, with a
// noop too; when the server closed it, with the queue and a close packet.
func (ss *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	if ss.pollActive {
		// "the server MUST close the session" on overlapping GETs.
		ss.mu.Unlock()
		ss.close(ReasonTransportError, ErrOverlap, false)
		w.WriteHeader(http.StatusBadRequest) // with no body, as the reference server
		return
	}
	ss.pollActive = true
	// A GET that comes after the server closed the session gets a noop
	// before the close packet, as from the reference server.
	late := ss.closed && !ss.byClient
	ss.mu.Unlock()
	for {
		ss.mu.Lock()
		switch {
		case ss.transport == websocket || ss.upgrading && ss.probed && len(ss.queue) == 0 || ss.closed && ss.byClient:
			ss.pollActive = false
			ss.mu.Unlock()
			ss.writePayload(w, r, noopMsg, false)
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
			compress := slices.ContainsFunc(q, func(m queued) bool { return !m.noCompress })
			if closed {
				if len(body) == 0 && late {
					body = append(body, noopMsg...)
				}
				if len(body) > 0 {
					body = append(body, engineio.Separator)
				}
				body = append(body, closeMsg...)
				ss.srv.remove(ss)
			}
			ss.writeCompressed(w, r, body, compress)
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
func appendPolling(dst []byte, msgs []queued) []byte {
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

// writePayload answers a polling GET with body.
func (ss *Session) writePayload(w http.ResponseWriter, r *http.Request, body []byte, initial bool) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	ss.srv.headers(h, r, initial)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// writeCompressed answers a polling GET with body, compressed with gzip or
// deflate as Node's engine.io does (its httpCompression option): when some
// message of the body may be compressed, the body reaches the threshold
// and the request accepts one of them.
func (ss *Session) writeCompressed(w http.ResponseWriter, r *http.Request, body []byte, compress bool) {
	threshold := ss.srv.opts.HTTPCompressionThreshold
	enc := ""
	if compress && threshold >= 0 && len(body) >= max(threshold, 1) {
		enc = acceptedEncoding(r.Header.Values("Accept-Encoding"))
	}
	if enc == "" {
		ss.writePayload(w, r, body, false)
		return
	}
	var buf bytes.Buffer
	var zw io.WriteCloser
	if enc == "gzip" {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	} else {
		zw, _ = zlib.NewWriterLevel(&buf, zlib.DefaultCompression)
	}
	zw.Write(body)
	zw.Close()
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Encoding", enc)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	ss.srv.headers(h, r, false)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// acceptedEncoding returns "gzip" or "deflate", the one of them the
// Accept-Encoding values prefer (gzip on a tie, as Node's accepts module
// orders them), or "" for neither. A q of 0 refuses an encoding.
func acceptedEncoding(values []string) string {
	best, bestQ := "", 0.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			q := 1.0
			if p := strings.TrimSpace(params); strings.HasPrefix(p, "q=") {
				if f, err := strconv.ParseFloat(p[2:], 64); err == nil {
					q = f
				}
			}
			if name == "*" {
				name = "gzip"
			}
			if (name == "gzip" || name == "deflate") && q > 0 &&
				(q > bestQ || q == bestQ && name == "gzip") {
				best, bestQ = name, q
			}
		}
	}
	return best
}

var errInvalidContent = errors.New("engine: a binary polling body (Engine.IO version 3)")

// servePost takes a polling POST: a payload of packets from the client, at
// most MaxPayload bytes.
func (ss *Session) servePost(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	switch {
	case ss.closed:
		ss.mu.Unlock()
		writeJSONError(w, engineio.UnknownSID, engineio.UnknownSID.String(), http.StatusBadRequest)
		return
	case ss.postActive:
		ss.mu.Unlock()
		ss.close(ReasonTransportError, ErrOverlap, false)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ss.postActive = true
	ss.mu.Unlock()
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		// Binary polling bodies are Engine.IO version 3's; the reference
		// server closes a version 4 session that sends one.
		ss.mu.Lock()
		ss.postActive = false
		ss.mu.Unlock()
		ss.close(ReasonTransportError, errInvalidContent, false)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	defer func() {
		ss.mu.Lock()
		ss.postActive = false
		ss.mu.Unlock()
	}()
	// Over MaxPayload: 413 with no body, as the reference server; the
	// session is closed too, since the client has lost data.
	max := ss.srv.opts.MaxPayload
	if r.ContentLength > max {
		ss.close(ReasonTransportError, ErrPayloadTooLarge, false)
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		ss.close(ReasonTransportError, err, false)
		writeJSONError(w, engineio.BadRequest, engineio.BadRequest.String(), http.StatusBadRequest)
		return
	}
	if int64(len(body)) > max {
		ss.close(ReasonTransportError, ErrPayloadTooLarge, false)
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	ss.inMu.Lock()
	err = engineio.ParsePayload(body, 0, ss.onPacket)
	ss.inMu.Unlock()
	if err != nil && !errors.Is(err, errSessionEnded) {
		// The packets before the bad one were taken; the request itself
		// is answered "ok", as by the reference server, and the session's
		// next request finds it closed.
		ss.close(ReasonParseError, err, false)
	}
	// text/html, as the reference server, so that old browsers do not
	// sniff the body.
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	ss.srv.headers(h, r, false)
	w.Write([]byte("ok"))
}
