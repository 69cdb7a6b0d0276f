package autobahn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
)

// ClientSpec is a fuzzingclient spec file, as wstest reads it:
//
//	{"outdir": "./reports/servers",
//	 "servers": [{"agent": "MyServer", "url": "ws://127.0.0.1:9001"}],
//	 "cases": ["*"], "exclude-cases": ["12.*", "13.*"],
//	 "exclude-agent-cases": {}, "options": {"failByDrop": false}}
//
// The patterns of cases, exclude-cases and exclude-agent-cases are matched
// as the suite matches them (see [MatchPattern]). The options, at the top
// and per server, are the suite's protocol options (see
// [Options.ApplyProtocolOptions]). A server entry may also set "hostname" (the name to
// send in TLS's SNI and to verify the certificate of a wss:// server
// against), and, as our extensions of the suite's format, "http2": true
// (open every case as an HTTP/2 extended CONNECT stream, RFC 8441) and
// "insecure": true (do not verify the certificate of a wss:// server).
type ClientSpec struct {
	OutDir            string              `json:"outdir"`
	Servers           []ServerEntry       `json:"servers"`
	Cases             []string            `json:"cases"`
	ExcludeCases      []string            `json:"exclude-cases"`
	ExcludeAgentCases map[string][]string `json:"exclude-agent-cases"`
	Options           map[string]any      `json:"options"`

	// Warnings lists what the spec holds that the harness does not use:
	// unknown fields, unknown options, options it does not implement. The
	// suite ignores unknown fields silently.
	Warnings []string `json:"-"`
}

// ServerEntry is one testee server of a [ClientSpec].
type ServerEntry struct {
	// Agent names the testee in the reports. If empty, the Server header
	// of the first handshake is used, or "UnknownServer".
	Agent string `json:"agent"`
	// URL is the ws:// or wss:// URL to connect to; its path and query
	// are sent. wss:// runs every case over TLS (see [Options.TLSClientConfig]).
	URL string `json:"url"`
	// Options are the suite's protocol options for this server, applied
	// after those at the top of the spec (see [Options.ApplyProtocolOptions]).
	Options map[string]any `json:"options"`
	// Origin, if set, is sent as the Origin header.
	Origin string `json:"origin"`
	// Protocols, if set, are offered in Sec-WebSocket-Protocol.
	Protocols []string `json:"protocols"`
	// Hostname, for a wss:// server, is the name sent in TLS's server
	// name indication and the name its certificate must be valid for,
	// against the system's roots, as in the suite. Without it (and without
	// [Options.TLSClientConfig]) the certificate is not verified, as the
	// suite does not verify it either.
	Hostname string `json:"hostname"`
	// HTTP2 opens every case as an extended CONNECT stream (RFC 8441) on
	// an HTTP/2 connection of its own: over TLS with ALPN h2 for wss://,
	// with prior knowledge (h2c) for ws://. [Options.HTTP2] sets it for
	// every server. Our extension of the spec format.
	HTTP2 bool `json:"http2"`
	// Insecure skips the verification of a wss:// server's certificate,
	// even with a Hostname or an Options.TLSClientConfig. Our extension of
	// the spec format.
	Insecure bool `json:"insecure"`
}

// ServerSpec is a fuzzingserver spec file:
//
//	{"url": "ws://127.0.0.1:9001", "outdir": "./reports/clients",
//	 "webport": 8080, "cases": ["*"], "exclude-cases": [],
//	 "exclude-agent-cases": {}, "options": {"failByDrop": false}}
//
// A wss:// url serves TLS with the certificate and key of "cert" and
// "key" (PEM files, relative to the working directory, as in the suite),
// else as [Options.TLSServerConfig] says. "webport" is the port of the web
// server that wstest runs next to the fuzzing server (the suite's -u).
// "http2": true, our extension of the format, also accepts testee clients
// over HTTP/2 (see [Options.HTTP2]).
type ServerSpec struct {
	URL               string              `json:"url"`
	HTTP2             bool                `json:"http2"`
	OutDir            string              `json:"outdir"`
	Cases             []string            `json:"cases"`
	ExcludeCases      []string            `json:"exclude-cases"`
	ExcludeAgentCases map[string][]string `json:"exclude-agent-cases"`
	Options           map[string]any      `json:"options"`
	Key               string              `json:"key"`
	Cert              string              `json:"cert"`
	WebPort           *int                `json:"webport"`
	// Protocols is accepted for the suite's specs; as the suite's fuzzing
	// server, this one selects no subprotocol.
	Protocols []string `json:"protocols"`

	// Warnings lists what the spec holds that the harness does not use.
	Warnings []string `json:"-"`
}

var (
	clientSpecFields  = []string{"outdir", "servers", "cases", "exclude-cases", "exclude-agent-cases", "options"}
	serverEntryFields = []string{"agent", "url", "options", "origin", "protocols", "hostname", "http2", "insecure"}
	serverSpecFields  = []string{"url", "http2", "outdir", "cases", "exclude-cases", "exclude-agent-cases", "options", "key", "cert", "webport", "protocols"}
)

// ParseClientSpec decodes a fuzzingclient spec. Missing "cases" means all
// cases. A malformed spec gives an error with the line and column of the
// problem; see [LoadClientSpec]. A spec without servers gives
// [ErrNoServers].
func ParseClientSpec(data []byte) (*ClientSpec, error) {
	return parseClientSpec("spec", data)
}

func parseClientSpec(name string, data []byte) (*ClientSpec, error) {
	var s ClientSpec
	if err := decodeSpec(name, data, &s); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	json.Unmarshal(data, &top)
	s.Warnings = unknownFields("", top, clientSpecFields)
	var raw struct {
		Servers []map[string]json.RawMessage `json:"servers"`
	}
	json.Unmarshal(data, &raw)
	for i, srv := range raw.Servers {
		s.Warnings = append(s.Warnings, unknownFields(fmt.Sprintf("servers[%d].", i), srv, serverEntryFields)...)
	}
	if s.Cases == nil {
		s.Cases = []string{"*"}
	}
	if err := CheckPatterns(s.Cases, s.ExcludeCases, s.ExcludeAgentCases); err != nil {
		return nil, specErr(name, err)
	}
	w, err := (&Options{}).ApplyProtocolOptions(s.Options, ModeFuzzingClient)
	if err != nil {
		return nil, fmt.Errorf("autobahn: %s: options: %w", name, err)
	}
	s.Warnings = append(s.Warnings, prefixAll("options: ", w)...)
	for i, srv := range s.Servers {
		if _, err := parseWSURL(srv.URL); err != nil {
			return nil, specErr(fmt.Sprintf("%s: servers[%d]", name, i), err)
		}
		w, err := (&Options{}).ApplyProtocolOptions(srv.Options, ModeFuzzingClient)
		if err != nil {
			return nil, fmt.Errorf("autobahn: %s: servers[%d].options: %w", name, i, err)
		}
		s.Warnings = append(s.Warnings, prefixAll(fmt.Sprintf("servers[%d].options: ", i), w)...)
	}
	if len(s.Servers) == 0 {
		return &s, fmt.Errorf("autobahn: %s: %w", name, ErrNoServers)
	}
	return &s, nil
}

// ErrNoServers is the error of a fuzzingclient spec that names no server.
// [ParseClientSpec] and [LoadClientSpec] return it with the spec, otherwise
// valid, so that a tool can supply the server (wstest takes -w's URL, as
// the suite does).
var ErrNoServers = errors.New("no servers")

// ParseServerSpec decodes a fuzzingserver spec. Missing "cases" means all
// cases; a missing "url" means ws://127.0.0.1:9001. A malformed spec gives
// an error with the line and column of the problem; see [LoadServerSpec].
func ParseServerSpec(data []byte) (*ServerSpec, error) {
	return parseServerSpec("spec", data)
}

func parseServerSpec(name string, data []byte) (*ServerSpec, error) {
	var s ServerSpec
	if err := decodeSpec(name, data, &s); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	json.Unmarshal(data, &top)
	s.Warnings = unknownFields("", top, serverSpecFields)
	if s.Cases == nil {
		s.Cases = []string{"*"}
	}
	if s.URL == "" {
		s.URL = "ws://127.0.0.1:9001"
	}
	if _, err := parseWSURL(s.URL); err != nil {
		return nil, specErr(name, err)
	}
	if err := CheckPatterns(s.Cases, s.ExcludeCases, s.ExcludeAgentCases); err != nil {
		return nil, specErr(name, err)
	}
	if (s.Key == "") != (s.Cert == "") {
		return nil, fmt.Errorf("autobahn: %s: key and cert go together", name)
	}
	if s.WebPort != nil && (*s.WebPort < 0 || *s.WebPort > 65535) {
		return nil, fmt.Errorf("autobahn: %s: invalid webport %d", name, *s.WebPort)
	}
	w, err := (&Options{}).ApplyProtocolOptions(s.Options, ModeFuzzingServer)
	if err != nil {
		return nil, fmt.Errorf("autobahn: %s: options: %w", name, err)
	}
	s.Warnings = append(s.Warnings, prefixAll("options: ", w)...)
	return &s, nil
}

// LoadClientSpec reads and parses a fuzzingclient spec file. Errors name
// the file, and for malformed JSON the line and column, as
// "fuzzingclient.json:3:17: ...".
func LoadClientSpec(path string) (*ClientSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("autobahn: %w", err)
	}
	return parseClientSpec(path, b)
}

// LoadServerSpec reads and parses a fuzzingserver spec file, as
// [LoadClientSpec] does.
func LoadServerSpec(path string) (*ServerSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("autobahn: %w", err)
	}
	return parseServerSpec(path, b)
}

// specErr puts the spec's name into an error of this package.
func specErr(name string, err error) error {
	return fmt.Errorf("autobahn: %s: %s", name, strings.TrimPrefix(err.Error(), "autobahn: "))
}

// decodeSpec decodes JSON into v. A syntax or type error says where, as
// name:line:column.
func decodeSpec(name string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		off = se.Offset
		if off > 0 && int(off) <= len(data) && se.Error() != "unexpected end of JSON input" {
			off-- // the offset is past the offending character
		}
	case errors.As(err, &te):
		off = te.Offset
		msg = fmt.Sprintf("%s is %s, want %s", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	if off < 0 {
		return fmt.Errorf("autobahn: %s: %w", name, err)
	}
	line, col := position(data, off)
	return fmt.Errorf("autobahn: %s:%d:%d: %s", name, line, col, strings.TrimPrefix(msg, "json: "))
}

func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "a list"
	case "map", "struct":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "ptr", "int", "int64", "float64":
		return "a number"
	}
	return k
}

// position returns the line and column (1-based, in bytes) of offset off
// in data.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// unknownFields lists the keys of an object that are not known.
func unknownFields(prefix string, obj map[string]json.RawMessage, known []string) []string {
	var w []string
	for k := range obj {
		if !slices.Contains(known, k) {
			w = append(w, fmt.Sprintf("unknown field %s%q is ignored", prefix, k))
		}
	}
	slices.Sort(w)
	return w
}

func prefixAll(p string, s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = p + x
	}
	return out
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
