package autobahn

import (
	"crypto/tls"
	"io"
	"time"
)

// Options tunes a run. The zero value (or a nil *Options) gives the suite's
// timings; tests may shorten the close timeouts to run broken testees fast.
type Options struct {
	// OpenHandshakeTimeout bounds the opening handshake. Default 5 s.
	OpenHandshakeTimeout time.Duration
	// CloseHandshakeTimeout is how long the fuzzer waits for the testee's
	// close frame after sending its own before it drops TCP. Default 1 s.
	CloseHandshakeTimeout time.Duration
	// ServerDropTimeout is how long a client-mode fuzzer waits, after the
	// closing handshake it started, for the testee server to close TCP.
	// Default 1 s.
	ServerDropTimeout time.Duration
	// SafetyMargin is added to a case's own time budget (pauses, its kill
	// or close timer and the close timeouts) to form its safety timeout:
	// if TCP still exists then, the fuzzer drops it and fails the case.
	// Default 10 s.
	SafetyMargin time.Duration
	// MaxCaseDuration, if positive, caps the safety timeout of every case.
	MaxCaseDuration time.Duration
	// ChopPause is the pause after each piece of a chopped or sync write.
	// Default 10 µs.
	ChopPause time.Duration
	// MaxMessageSize bounds a message from the testee, after
	// decompression. Default 64 MiB.
	MaxMessageSize int64
	// CompressionLevel is the DEFLATE level (1-9) the fuzzer compresses its
	// section 12/13 messages with. 0 means 6, zlib's default, as the
	// original suite uses. The level does not change any verdict, only the
	// ratio and the time a run takes.
	CompressionLevel int
	// WireLogLimit is how many frames per direction a case's wire log
	// keeps. Default 200.
	WireLogLimit int
	// Progress, if set, receives one line per finished case.
	Progress io.Writer
	// UserAgent is the client-mode fuzzer's User-Agent.
	UserAgent string
	// ServerName is the server-mode fuzzer's Server header.
	ServerName string

	// HTTP2 runs WebSockets over HTTP/2 (RFC 8441). In fuzzingclient mode
	// it opens every case of every server as an extended CONNECT stream,
	// as [ServerEntry.HTTP2] does for one server. In fuzzingserver mode it
	// also accepts testee clients over HTTP/2, as [ServerSpec.HTTP2] does:
	// with prior knowledge (h2c) on ws://, by ALPN h2 on wss://; HTTP/1.1
	// clients are served as without it. Go's HTTP/2 server takes extended
	// CONNECT only in a process started with GODEBUG=http2xconnect=1;
	// [NewFuzzingServer] fails without it. See DECISIONS.md, items 29-33.
	HTTP2 bool
	// TLSClientConfig configures TLS to wss:// testee servers (fuzzingclient
	// mode). nil means the defaults: the system roots and the URL's host as
	// the server name. [ServerEntry.Insecure] turns verification off for
	// one server. NextProtos is set per connection (http/1.1 or h2).
	TLSClientConfig *tls.Config
	// TLSServerConfig configures TLS for a wss:// fuzzing server
	// (fuzzingserver mode); it must hold a certificate. nil means a
	// self-signed certificate for the URL's host, localhost and the
	// loopback addresses, generated at start and announced on Progress.
	// NextProtos, if empty, is set to http/1.1 (and h2 with HTTP/2).
	TLSServerConfig *tls.Config
}

// Version names the harness in the User-Agent and Server headers.
const Version = "wirelevel-autobahn/1"

func (o *Options) withDefaults() *Options {
	var r Options
	if o != nil {
		r = *o
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&r.OpenHandshakeTimeout, 5*time.Second)
	def(&r.CloseHandshakeTimeout, time.Second)
	def(&r.ServerDropTimeout, time.Second)
	def(&r.SafetyMargin, 10*time.Second)
	def(&r.ChopPause, 10*time.Microsecond)
	if r.CompressionLevel < 1 || r.CompressionLevel > 9 {
		r.CompressionLevel = 6
	}
	if r.MaxMessageSize <= 0 {
		r.MaxMessageSize = 64 << 20
	}
	if r.WireLogLimit <= 0 {
		r.WireLogLimit = 200
	}
	if r.Progress == nil {
		r.Progress = io.Discard
	}
	if r.UserAgent == "" {
		r.UserAgent = Version
	}
	if r.ServerName == "" {
		r.ServerName = Version
	}
	return &r
}

// safetyTimeout is the longest a case may run: its pauses and timer, the
// close timeouts and the margin.
func (o *Options) safetyTimeout(c *Case) time.Duration {
	secs := 0.0
	for _, s := range c.Steps {
		switch s.Do {
		case StepPause, StepKillAfter, StepCloseAfter:
			secs += s.Seconds
		}
	}
	d := time.Duration(secs*float64(time.Second)) + o.CloseHandshakeTimeout + o.ServerDropTimeout + o.SafetyMargin
	if o.MaxCaseDuration > 0 && d > o.MaxCaseDuration {
		d = o.MaxCaseDuration
	}
	return d
}
