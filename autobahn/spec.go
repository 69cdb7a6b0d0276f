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
	// URL is the ws:// URL to connect to; its path and query are sent.
	URL string `json:"url"`
	// Options is accepted and ignored (the suite's "version" and the like).
	Options map[string]any `json:"options"`
	// Origin, if set, is sent as the Origin header.
	Origin string `json:"origin"`
	// Protocols, if set, are offered in Sec-WebSocket-Protocol.
	Protocols []string `json:"protocols"`
}

// ServerSpec is a fuzzingserver spec file:
//
//	{"url": "ws://127.0.0.1:9001", "outdir": "./reports/clients",
//	 "cases": ["*"], "exclude-cases": [], "exclude-agent-cases": {}}
type ServerSpec struct {
	URL               string              `json:"url"`
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

// wsURL is a parsed ws:// URL.
type wsURL struct {
	host   string // Host header value, as given
	addr   string // host:port to dial
	target string // request-target: path and query
}

func parseWSURL(s string) (*wsURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("autobahn: url %q: %w", s, err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("autobahn: url %q: only ws:// is supported", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("autobahn: url %q: no host", s)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(strings.Trim(u.Hostname(), "[]"), "80")
	}
	target := u.EscapedPath()
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return &wsURL{host: u.Host, addr: addr, target: target}, nil
}
