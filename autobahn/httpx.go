package autobahn

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wirelevel/ws/handshake"
)

// The fuzzer writes its own handshake bytes, for exact control of the
// headers it sends and of the suite's negotiation quirks; it parses the
// peer's with net/http and checks the WebSocket fields itself. See
// DECISIONS.md, item 18.

// maxHeaderBlock bounds an HTTP header block from the testee.
const maxHeaderBlock = 64 << 10

var errHeaderTooLarge = errors.New("autobahn: HTTP header block too large")

// readHeaderBlock reads an HTTP header block, up to and including the empty
// line, and returns it verbatim. Bytes after it stay in br.
func readHeaderBlock(br *bufio.Reader) ([]byte, error) {
	var b []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(b)+len(line) > maxHeaderBlock {
			return b, errHeaderTooLarge
		}
		b = append(b, line...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return b, err
		}
		if len(line) <= 2 && strings.TrimRight(string(line), "\r\n") == "" {
			return b, nil
		}
	}
}

// headerHasToken reports whether a comma-separated header value list holds
// token, compared case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// clientRequest builds the client-mode fuzzer's opening handshake.
func clientRequest(u *wsURL, srv *ServerEntry, key, extensions, userAgent string, version int) []byte {
	if version == 0 {
		version = 13
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", u.target)
	fmt.Fprintf(&b, "User-Agent: %s\r\n", userAgent)
	fmt.Fprintf(&b, "Host: %s\r\n", u.host)
	b.WriteString("Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\n", key)
	if srv.Origin != "" {
		fmt.Fprintf(&b, "Origin: %s\r\n", srv.Origin)
	}
	if len(srv.Protocols) > 0 {
		fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(srv.Protocols, ", "))
	}
	if extensions != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", extensions)
	}
	fmt.Fprintf(&b, "Sec-WebSocket-Version: %d\r\n\r\n", version)
	return b.Bytes()
}

// checkServerResponse checks a testee server's answer to the fuzzer's
// handshake and returns the negotiated permessage-deflate, if any.
func checkServerResponse(resp *http.Response, key string, srv *ServerEntry, offeredPMCE bool) (*Negotiated, error) {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("status %d, want 101", resp.StatusCode)
	}
	if !headerHasToken(resp.Header, "Upgrade", "websocket") {
		return nil, errors.New("the Upgrade header lacks websocket")
	}
	if !headerHasToken(resp.Header, "Connection", "upgrade") {
		return nil, errors.New("the Connection header lacks upgrade")
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), handshake.AcceptKey(key); got != want {
		return nil, fmt.Errorf("the Sec-WebSocket-Accept is %q, want %q", got, want)
	}
	return checkAgreed(resp.Header, srv, offeredPMCE)
}

// checkAgreed checks the subprotocol and extensions a testee server agreed
// to, over HTTP/1.1 or HTTP/2, and returns the negotiated
// permessage-deflate, if any.
func checkAgreed(h http.Header, srv *ServerEntry, offeredPMCE bool) (*Negotiated, error) {
	if p := h.Get("Sec-WebSocket-Protocol"); p != "" && !slices.Contains(srv.Protocols, p) {
		return nil, fmt.Errorf("server chose subprotocol %q, which was not offered", p)
	}
	return parseAccepted(strings.Join(h.Values("Sec-WebSocket-Extensions"), ", "), offeredPMCE)
}

// handshakeRejection is an HTTP error response to a testee client.
func handshakeRejection(status int, msg string) []byte {
	body := msg + "\n"
	extra := ""
	if status == http.StatusUpgradeRequired {
		extra = "Sec-WebSocket-Version: 13\r\n"
	}
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), extra, len(body), body)
}

// checkClientRequest checks a testee client's opening handshake and returns
// its Sec-WebSocket-Key, or the HTTP status to reject it with.
func checkClientRequest(req *http.Request, versions []int) (key string, status int, err error) {
	if versions == nil {
		versions = acceptableVersions
	}
	switch {
	case req.Method != http.MethodGet:
		return "", http.StatusMethodNotAllowed, errors.New("method is not GET")
	case !req.ProtoAtLeast(1, 1):
		return "", http.StatusBadRequest, errors.New("HTTP version below 1.1")
	case !headerHasToken(req.Header, "Upgrade", "websocket"):
		return "", http.StatusBadRequest, errors.New("the Upgrade header lacks websocket")
	case !headerHasToken(req.Header, "Connection", "upgrade"):
		return "", http.StatusBadRequest, errors.New("the Connection header lacks upgrade")
	case !slices.Contains(versions, atoiOr(req.Header.Get("Sec-WebSocket-Version"), -1)):
		return "", http.StatusUpgradeRequired, errors.New("the Sec-WebSocket-Version is not 13")
	}
	// RFC 6455, Section 4.2.1: the key, "when decoded, is 16 bytes in
	// length".
	key = strings.TrimSpace(req.Header.Get("Sec-WebSocket-Key"))
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 16 {
		return "", http.StatusBadRequest, errors.New("bad Sec-WebSocket-Key")
	}
	return key, 0, nil
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

// serverResponse builds the server-mode fuzzer's 101 response.
func serverResponse(key, serverName, extensions string) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	fmt.Fprintf(&b, "Server: %s\r\n", serverName)
	b.WriteString("Upgrade: WebSocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s\r\n", handshake.AcceptKey(key))
	if extensions != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Extensions: %s\r\n", extensions)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}
