package redisadapter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"

	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
)

// wireOpts returns the options of a published broadcast or selection, as a
// Node node writes them: rooms and except without duplicates, always
// present, and for a broadcast the flags.
func wireOpts(o *realtime.BroadcastOptions, withFlags bool) wire.Opts {
	w := wire.Opts{Rooms: unique(o.Rooms), Except: unique(o.Except)}
	if withFlags {
		f := o.Flags
		w.Flags = &wire.Flags{Volatile: f.Volatile, ExpectSingleResponse: f.ExpectSingleResponse}
		if f.NoCompress {
			w.Flags.HasCompress, w.Flags.Compress = true, false
		}
		if f.Timeout > 0 {
			w.Flags.HasTimeout, w.Flags.Timeout = true, f.Timeout
		}
	}
	return w
}

// localFlags returns the flags of a broadcast from another node that
// apply here: volatile and compress.
func localFlags(f *wire.Flags) realtime.BroadcastFlags {
	if f == nil {
		return realtime.BroadcastFlags{}
	}
	return realtime.BroadcastFlags{Volatile: f.Volatile, NoCompress: f.HasCompress && !f.Compress}
}

// unique returns ss without repeats, in first-seen order, never nil.
func unique(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		dup := false
		for _, o := range out {
			if o == s {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// handshakeJSON returns a socket's handshake as a Node node reports it in
// a REMOTE_FETCH answer.
func handshakeJSON(h *realtime.Handshake) json.RawMessage {
	if h == nil {
		return wire.AppendHandshake(nil, &wire.Handshake{})
	}
	hdr := h.Header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	if h.Host != "" { // net/http keeps Host out of the header
		hdr.Set("Host", h.Host)
	}
	addr := h.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return wire.AppendHandshake(nil, &wire.Handshake{
		Headers: hdr, Time: h.Time, Address: addr, XDomain: h.XDomain, Secure: h.Secure,
		Issued: h.Time, URL: h.URL, Query: h.Query, Auth: h.Auth,
	})
}

// dataJSON returns a socket's data as JSON.stringify would write it; {}
// (Node's default) when there is none or it cannot be written, which is
// reported.
func dataJSON(c *Cluster, id string, v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("{}")
	}
	b, err := wire.AppendJSONValue(nil, v)
	if err != nil {
		c.report(fmt.Errorf("redisadapter: the data of socket %s cannot go to other nodes: %w", id, err))
		return json.RawMessage("{}")
	}
	return b
}

// remoteDetails turns a socket of a REMOTE_FETCH answer into realtime's
// form. A handshake that does not decode is left nil.
func remoteDetails(s *wire.RemoteSocket) realtime.SocketDetails {
	d := realtime.SocketDetails{ID: s.ID, Rooms: s.Rooms}
	if len(s.Handshake) > 0 {
		h := new(realtime.Handshake)
		if h.UnmarshalJSON(s.Handshake) == nil {
			d.Handshake = h
		}
	}
	if s.Data != nil {
		d.Data = json.RawMessage(bytes.Clone(s.Data))
	}
	return d
}

// firstElement returns the first element of a JSON array, nil when it is
// empty or not an array.
func firstElement(arr json.RawMessage) json.RawMessage {
	var elems []json.RawMessage
	if json.Unmarshal(arr, &elems) != nil || len(elems) == 0 {
		return nil
	}
	return elems[0]
}
