package autobahn

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// ClientSpec is a fuzzingclient spec file, as wstest reads it:
//
//	{"outdir": "./reports/servers",
//	 "servers": [{"agent": "MyServer", "url": "ws://127.0.0.1:9001"}],
//	 "cases": ["*"], "exclude-cases": ["12.*", "13.*"],
//	 "exclude-agent-cases": {}}
//
// A server entry may also set "http2": true (open every case as an HTTP/2
// extended CONNECT stream, RFC 8441) and "insecure": true (do not verify
// the certificate of a wss:// server); both are our extensions of the
// suite's format.
type ClientSpec struct {
	OutDir            string              `json:"outdir"`
	Servers           []ServerEntry       `json:"servers"`
	Cases             []string            `json:"cases"`
	ExcludeCases      []string            `json:"exclude-cases"`
	ExcludeAgentCases map[string][]string `json:"exclude-agent-cases"`
	Options           map[string]any      `json:"options"` // accepted and ignored, like failByDrop
}

// ServerEntry is one testee server of a [ClientSpec].
type ServerEntry struct {
	// Agent names the testee in the reports. If empty, the Server header
	// of the first handshake is used, or "UnknownServer".
	Agent string `json:"agent"`
	// URL is the ws:// or wss:// URL to connect to; its path and query
	// are sent. wss:// runs every case over TLS (see
	// [Options.TLSClientConfig]).
	URL string `json:"url"`
	// Options is accepted and ignored (the suite's "version" and the like).
	Options map[string]any `json:"options"`
	// Origin, if set, is sent as the Origin header.
	Origin string `json:"origin"`
	// Protocols, if set, are offered in Sec-WebSocket-Protocol.
	Protocols []string `json:"protocols"`
	// HTTP2 opens every case as an extended CONNECT stream (RFC 8441) on
	// an HTTP/2 connection of its own: over TLS with ALPN h2 for wss://,
	// with prior knowledge (h2c) for ws://. [Options.HTTP2] sets it for
	// every server. Our extension of the spec format.
	HTTP2 bool `json:"http2"`
	// Insecure skips the verification of a wss:// server's certificate,
	// for testees with self-signed ones. Our extension of the spec format.
	Insecure bool `json:"insecure"`
}

// ServerSpec is a fuzzingserver spec file:
//
//	{"url": "ws://127.0.0.1:9001", "outdir": "./reports/clients",
//	 "cases": ["*"], "exclude-cases": [], "exclude-agent-cases": {}}
//
// A wss:// url serves TLS (see [Options.TLSServerConfig]); "http2": true,
// our extension of the format, also accepts testee clients over HTTP/2
// (see [Options.HTTP2]).
type ServerSpec struct {
	URL               string              `json:"url"`
	HTTP2             bool                `json:"http2"`
	OutDir            string              `json:"outdir"`
	Cases             []string            `json:"cases"`
	ExcludeCases      []string            `json:"exclude-cases"`
	ExcludeAgentCases map[string][]string `json:"exclude-agent-cases"`
	Options           map[string]any      `json:"options"` // accepted and ignored
}

// ParseClientSpec decodes a fuzzingclient spec. Missing "cases" means all
// cases.
func ParseClientSpec(data []byte) (*ClientSpec, error) {
	var s ClientSpec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("autobahn: client spec: %w", err)
	}
	if s.Cases == nil {
		s.Cases = []string{"*"}
	}
	if len(s.Servers) == 0 {
		return nil, errors.New("autobahn: client spec: no servers")
	}
	for _, srv := range s.Servers {
		if _, err := parseWSURL(srv.URL); err != nil {
			return nil, err
		}
	}
	return &s, nil
}

// ParseServerSpec decodes a fuzzingserver spec. Missing "cases" means all
// cases; a missing "url" means ws://127.0.0.1:9001.
func ParseServerSpec(data []byte) (*ServerSpec, error) {
	var s ServerSpec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("autobahn: server spec: %w", err)
	}
	if s.Cases == nil {
		s.Cases = []string{"*"}
	}
	if s.URL == "" {
		s.URL = "ws://127.0.0.1:9001"
	}
	if _, err := parseWSURL(s.URL); err != nil {
		return nil, err
	}
	return &s, nil
}

// LoadClientSpec reads and parses a fuzzingclient spec file.
func LoadClientSpec(path string) (*ClientSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("autobahn: %w", err)
	}
	return ParseClientSpec(b)
}

// LoadServerSpec reads and parses a fuzzingserver spec file.
func LoadServerSpec(path string) (*ServerSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("autobahn: %w", err)
	}
	return ParseServerSpec(b)
}

// wsURL is a parsed ws:// or wss:// URL.
type wsURL struct {
	secure   bool   // wss://: TLS
	host     string // Host header value, as given
	hostname string // host without port or brackets, for TLS
	addr     string // host:port to dial
	target   string // request-target: path and query
}

func (u *wsURL) base() string {
	if u.secure {
		return "wss://" + u.host
	}
	return "ws://" + u.host
}

func parseWSURL(s string) (*wsURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("autobahn: url %q: %w", s, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("autobahn: url %q: only ws:// and wss:// are supported", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("autobahn: url %q: no host", s)
	}
	secure := u.Scheme == "wss"
	hostname := strings.Trim(u.Hostname(), "[]")
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if secure {
			port = "443"
		}
		addr = net.JoinHostPort(hostname, port)
	}
	target := u.EscapedPath()
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return &wsURL{secure: secure, host: u.Host, hostname: hostname, addr: addr, target: target}, nil
}
