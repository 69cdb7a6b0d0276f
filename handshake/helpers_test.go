package handshake

import (
	"fmt"
	"strings"
)

// rfcKey and rfcAccept are the RFC 6455, Section 1.3 example.
const (
	rfcKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// hdr is an ordered list of header fields for building test messages.
type hdr [][2]string

// baseFields is a minimal valid request header, without Origin.
func baseFields() hdr {
	return hdr{
		{"Host", "example.com"},
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", rfcKey},
		{"Sec-WebSocket-Version", "13"},
	}
}

// set returns a copy of h with every field named name removed and one
// field added per value, in place of the first removed one (or at the
// end).
func (h hdr) set(name string, values ...string) hdr {
	var out hdr
	done := false
	for _, f := range h {
		if strings.EqualFold(f[0], name) {
			if !done {
				for _, v := range values {
					out = append(out, [2]string{name, v})
				}
				done = true
			}
			continue
		}
		out = append(out, f)
	}
	if !done {
		for _, v := range values {
			out = append(out, [2]string{name, v})
		}
	}
	return out
}

// rawRequest builds a request with the given request line and fields.
func rawRequest(line string, h hdr) string {
	var b strings.Builder
	b.WriteString(line + "\r\n")
	for _, f := range h {
		b.WriteString(f[0] + ": " + f[1] + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func validRequest() string { return rawRequest("GET /chat HTTP/1.1", baseFields()) }

// hexs formats b as spaced hex, the house style for bytes in failures.
// Long inputs are cut.
func hexs(b []byte) string {
	const max = 32
	var sb strings.Builder
	for i, c := range b {
		if i == max {
			fmt.Fprintf(&sb, " … (%d bytes)", len(b))
			break
		}
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}

// equalExtensions compares extension lists, treating nil and empty alike.
func equalExtensions(a, b []Extension) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].Params) != len(b[i].Params) {
			return false
		}
		for j := range a[i].Params {
			if a[i].Params[j] != b[i].Params[j] {
				return false
			}
		}
	}
	return true
}
