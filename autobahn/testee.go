package autobahn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wirelevel/ws/frame"
	"github.com/wirelevel/ws/handshake"
)

// EchoFunc connects to url as a WebSocket client and acts as an echo
// endpoint (CASES.md, Section A.2) until the connection is closed. An error
// is reported but does not stop a run: failing the connection is what a
// testee is expected to do in many cases.
type EchoFunc func(ctx context.Context, url string) error

// RunTesteeClient drives a fuzzing server as the suite's testee clients do:
// it asks /getCaseCount, calls echo for /runCase?case=1..N&agent=agent, then
// asks /updateReports. server is the fuzzing server's base URL, such as
// ws://127.0.0.1:9001. If progress is set, a line per case is printed to it.
// It returns the number of cases run.
func RunTesteeClient(ctx context.Context, server, agent string, echo EchoFunc, progress io.Writer) (int, error) {
	return RunTesteeClientTLS(ctx, server, agent, echo, progress, nil)
}

// RunTesteeClientTLS is [RunTesteeClient] for a wss:// fuzzing server
// whose certificate cfg verifies (see [FetchMessageTLS]); echo brings its
// own TLS configuration.
func RunTesteeClientTLS(ctx context.Context, server, agent string, echo EchoFunc, progress io.Writer, cfg *tls.Config) (int, error) {
	server = strings.TrimRight(server, "/")
	q := url.QueryEscape(agent)
	s, err := FetchMessageTLS(ctx, server+"/getCaseCount", cfg)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(s)))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("autobahn: bad case count %q", s)
	}
	for i := 1; i <= n; i++ {
		if err := ctx.Err(); err != nil {
			return i - 1, err
		}
		err := echo(ctx, fmt.Sprintf("%s/runCase?case=%d&agent=%s", server, i, q))
		if progress != nil {
			if err != nil {
				fmt.Fprintf(progress, "[%d/%d] testee: %v\n", i, n, err)
			} else {
				fmt.Fprintf(progress, "[%d/%d] done\n", i, n)
			}
		}
	}
	if _, err := FetchMessageTLS(ctx, server+"/updateReports?agent="+q, cfg); err != nil {
		return n, err
	}
	return n, nil
}

// FetchMessage connects to a fuzzing server endpoint that sends one text
// message and closes (getCaseCount, getCaseInfo, getCaseStatus,
// updateReports), and returns the message. It does the closing handshake
// and gives up after 15 s. It speaks HTTP/1.1, over TLS for wss:// with
// the system's roots.
func FetchMessage(ctx context.Context, rawURL string) ([]byte, error) {
	return FetchMessageTLS(ctx, rawURL, nil)
}

// FetchMessageTLS is [FetchMessage] with cfg (nil means the defaults) as
// the TLS configuration for a wss:// URL, for fuzzing servers with
// certificates the system does not trust.
func FetchMessageTLS(ctx context.Context, rawURL string, cfg *tls.Config) ([]byte, error) {
	u, err := parseWSURL(rawURL)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", u.addr)
	if err != nil {
		return nil, fmt.Errorf("autobahn: %w", err)
	}
	defer nc.Close()
	deadline := time.Now().Add(15 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	nc.SetDeadline(deadline)
	if u.secure {
		tc := tls.Client(nc, tlsClientConfig(cfg, u, false, "http/1.1"))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("autobahn: %s: TLS handshake: %w", rawURL, err)
		}
		nc = tc
	}
	key := handshake.NewKey()
	srv := &ServerEntry{}
	if _, err := nc.Write(clientRequest(u, srv, key, "", Version, 13)); err != nil {
		return nil, fmt.Errorf("autobahn: %w", err)
	}
	br := bufio.NewReader(nc)
	raw, err := readHeaderBlock(br)
	if err != nil {
		return nil, fmt.Errorf("autobahn: read response: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: http.MethodGet})
	if err != nil {
		return nil, fmt.Errorf("autobahn: %w", err)
	}
	if _, err := checkServerResponse(resp, key, srv, false); err != nil {
		return nil, fmt.Errorf("autobahn: %s: %w", rawURL, err)
	}
	var msg []byte
	var hb [frame.MaxHeaderSize]byte
	for {
		h, err := frame.ReadHeader(br, &hb)
		if err != nil {
			return msg, fmt.Errorf("autobahn: %w", err)
		}
		if h.Length > 1<<20 {
			return msg, fmt.Errorf("autobahn: frame of %d bytes", h.Length)
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return msg, fmt.Errorf("autobahn: %w", err)
		}
		switch h.Opcode {
		case frame.OpText, frame.OpBinary, frame.OpContinuation:
			msg = append(msg, p...)
		case frame.OpClose:
			reply := frame.Header{Fin: true, Opcode: frame.OpClose, Masked: true, Mask: maskKey()}
			nc.Write(frame.AppendFrame(nil, reply, binary.BigEndian.AppendUint16(nil, 1000)))
			io.Copy(io.Discard, br) // the server drops TCP
			if msg == nil {
				msg = []byte{}
			}
			return msg, nil
		}
	}
}
