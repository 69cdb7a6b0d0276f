package wire

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Handshake is a socket's handshake in the shape socket.io gives it
// (socket.handshake), which a REMOTE_FETCH response carries and Node
// applications read from a RemoteSocket.
type Handshake struct {
	Headers http.Header // written with lower-case names, sorted
	Time    time.Time   // written as Date's toString gives it, in UTC
	Address string      // the client's IP address, without the port
	XDomain bool        // the request had an Origin header
	Secure  bool        // the connection is TLS
	Issued  time.Time   // written in milliseconds since the epoch
	URL     string      // the request URI
	Query   url.Values  // a key with one value is written as a string, with more as an array
	Auth    json.RawMessage
}

// AppendHandshake appends h as JSON in socket.io's key order: headers,
// time, address, xdomain, secure, issued, url, query, auth. Repeated
// headers are joined as Node joins them: set-cookie as an array, cookie
// with "; ", the others with ", ". A nil Auth is written as {}.
func AppendHandshake(dst []byte, h *Handshake) []byte {
	dst = append(dst, `{"headers":{`...)
	names := make([]string, 0, len(h.Headers))
	for k := range h.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for i, k := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		name := strings.ToLower(k)
		dst = appendJSONString(dst, jsString([]byte(name)))
		dst = append(dst, ':')
		vs := h.Headers[k]
		switch name {
		case "set-cookie":
			dst = appendJSONStrings(dst, vs)
		case "cookie":
			dst = appendJSONString(dst, jsString([]byte(strings.Join(vs, "; "))))
		default:
			dst = appendJSONString(dst, jsString([]byte(strings.Join(vs, ", "))))
		}
	}
	dst = append(dst, `},"time":`...)
	dst = appendJSONString(dst, JSDateString(h.Time))
	dst = append(dst, `,"address":`...)
	dst = appendJSONString(dst, jsString([]byte(h.Address)))
	dst = append(dst, `,"xdomain":`...)
	dst = appendBool(dst, h.XDomain)
	dst = append(dst, `,"secure":`...)
	dst = appendBool(dst, h.Secure)
	dst = append(dst, `,"issued":`...)
	dst = appendJSNumber(dst, float64(h.Issued.UnixMilli()))
	dst = append(dst, `,"url":`...)
	dst = appendJSONString(dst, jsString([]byte(h.URL)))
	dst = append(dst, `,"query":{`...)
	keys := make([]string, 0, len(h.Query))
	for k := range h.Query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, jsString([]byte(k)))
		dst = append(dst, ':')
		if vs := h.Query[k]; len(vs) == 1 {
			dst = appendJSONString(dst, jsString([]byte(vs[0])))
		} else {
			dst = appendJSONStrings(dst, vs)
		}
	}
	dst = append(dst, `},"auth":`...)
	if h.Auth == nil {
		dst = append(dst, "{}"...)
	} else {
		dst = append(dst, h.Auth...)
	}
	return append(dst, '}')
}

func appendJSONStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, jsString([]byte(s)))
	}
	return append(dst, ']')
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// JSDateString returns t as JavaScript's Date.prototype.toString writes it
// in UTC, as socket.io writes handshake.time on a server in UTC:
// "Tue Dec 01 2026 20:17:44 GMT+0000 (Coordinated Universal Time)".
func JSDateString(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 2006 15:04:05") + " GMT+0000 (Coordinated Universal Time)"
}
