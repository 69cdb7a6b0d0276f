package autobahn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"time"
)

// Options tunes a run. The zero value (or a nil *Options) gives the suite's
// timings and protocol options; tests may shorten the close timeouts to run
// broken testees fast. A spec's "options" set the fields marked "spec:"
// (see [Options.ApplyProtocolOptions]).
type Options struct {
	// OpenHandshakeTimeout bounds the opening handshake. Default 5 s; a
	// negative value disables it. Spec: openHandshakeTimeout (0 disables).
	OpenHandshakeTimeout time.Duration
	// CloseHandshakeTimeout is how long the fuzzer waits for the testee's
	// close frame after sending its own before it drops TCP. Default 1 s;
	// a negative value disables it. Spec: closeHandshakeTimeout (0
	// disables).
	CloseHandshakeTimeout time.Duration
	// ServerDropTimeout is how long a client-mode fuzzer waits, after the
	// closing handshake it started, for the testee server to close TCP.
	// Default 1 s; a negative value disables it. Spec:
	// serverConnectionDropTimeout.
	ServerDropTimeout time.Duration

	// FailByDrop makes the fuzzer fail a connection (a protocol violation
	// by the testee, a kill timer) by dropping TCP at once instead of
	// starting a closing handshake. Spec: failByDrop; the suite's fuzzers
	// start from false, as the zero value does.
	FailByDrop bool
	// AutoFragmentSize, if positive, cuts the fuzzer's data messages that
	// a case does not fragment itself into frames of at most this many
	// payload bytes. Spec: autoFragmentSize.
	AutoFragmentSize int
	// MaxFramePayloadSize, if positive, fails a data frame from the
	// testee with a longer payload (close 1008). Spec:
	// maxFramePayloadSize.
	MaxFramePayloadSize int64
	// NoUTF8Validation turns off the check of the testee's text
	// messages. Spec: utf8validateIncoming false.
	NoUTF8Validation bool
	// NoApplyMask sends frames with a masking key but an unmasked payload,
	// and takes the testee's masked payloads as they are. Spec: applyMask
	// false.
	NoApplyMask bool
	// EchoCloseCodeReason answers a testee's close with its code and
	// reason instead of 1000. Spec: echoCloseCodeReason.
	EchoCloseCodeReason bool
	// UnmaskedClientFrames makes a client-mode fuzzer send unmasked
	// frames (spec: maskClientFrames false); MaskedServerFrames makes a
	// server-mode fuzzer mask its frames (spec: maskServerFrames).
	UnmaskedClientFrames, MaskedServerFrames bool
	// AcceptMaskedServerFrames (client mode; spec: acceptMaskedServerFrames)
	// and AcceptUnmaskedClientFrames (server mode; spec:
	// requireMaskedClientFrames false) take frames with the wrong masking
	// from the testee.
	AcceptMaskedServerFrames, AcceptUnmaskedClientFrames bool
	// NoTCPNoDelay leaves Nagle's algorithm on. Spec: tcpNoDelay false.
	NoTCPNoDelay bool
	// WebSocketVersion is the Sec-WebSocket-Version a client-mode fuzzer
	// sends; 0 means 13. Spec: version, a draft number of the suite
	// (10 to 12 send 8, 13 to 18 send 13).
	WebSocketVersion int
	// AcceptVersions are the Sec-WebSocket-Versions a server-mode fuzzer
	// accepts; nil means 8 and 13, as the suite. Spec: versions.
	AcceptVersions []int
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
	// decompression; a longer one is failed with 1009. Default 64 MiB.
	// Spec: maxMessagePayloadSize.
	MaxMessageSize int64
	// CompressionLevel is the DEFLATE level (1-9) the fuzzer compresses its
	// section 12/13 messages with. 0 means 6, zlib's default, as the
	// original suite uses. The level does not change any verdict, only the
	// ratio and the time a run takes.
	CompressionLevel int
	// WireLogLimit is how many entries per direction (octets and frames;
	// timer events count as sent) a case's wire log keeps. Default 200.
	WireLogLimit int
	// Progress, if set, receives one line per finished case.
	Progress io.Writer
	// Debug adds to each progress line the reasons of the case's two
	// verdicts.
	Debug bool
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
	defTimeout := func(d *time.Duration, v time.Duration) { // negative: disabled
		if *d == 0 {
			*d = v
		}
	}
	defTimeout(&r.OpenHandshakeTimeout, 5*time.Second)
	defTimeout(&r.CloseHandshakeTimeout, time.Second)
	defTimeout(&r.ServerDropTimeout, time.Second)
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

// timeout returns d, or 0 if it is disabled (negative).
func timeout(d time.Duration) time.Duration { return max(d, 0) }

// newTimer returns a timer for d, or nil (a timer that never fires, see
// timerC) if d is disabled.
func newTimer(d time.Duration) *time.Timer {
	if d < 0 {
		return nil
	}
	return time.NewTimer(d)
}

// deadline returns the time d from start, or the zero time (none) if d is
// disabled.
func deadline(start time.Time, d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return start.Add(d)
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
	if c.extra != nil {
		secs += c.extra.seconds
	}
	d := time.Duration(secs*float64(time.Second)) + timeout(o.CloseHandshakeTimeout) + timeout(o.ServerDropTimeout) + o.SafetyMargin
	if o.MaxCaseDuration > 0 && d > o.MaxCaseDuration {
		d = o.MaxCaseDuration
	}
	return d
}

// The options of the suite's client and server factories; the rest are
// either.
var (
	clientOnlyOptions  = []string{"version", "serverConnectionDropTimeout", "maskClientFrames", "acceptMaskedServerFrames"}
	serverOnlyOptions  = []string{"versions", "maskServerFrames", "requireMaskedClientFrames", "webStatus", "allowedOrigins", "maxConnections", "serveFlashSocketPolicy", "flashSocketPolicy"}
	unsupportedOptions = []string{"allowHixie76", "webStatus", "autoPingInterval", "autoPingTimeout", "autoPingSize", "perMessageCompressionOffers", "perMessageCompressionAccept", "serveFlashSocketPolicy", "flashSocketPolicy", "allowedOrigins", "maxConnections"}
	draftToWireVersion = map[int]int{10: 8, 11: 8, 12: 8, 13: 13, 14: 13, 15: 13, 16: 13, 17: 13, 18: 13}
	acceptableVersions = []int{8, 13}
	errHixie76         = errors.New("Hixie-76 (version 0) is not supported")
)

// ApplyProtocolOptions sets the fields of o from the "options" of a spec
// file (at the top, and per server in a fuzzingclient spec): the suite's
// WebSocket protocol options, with its names, for a fuzzer in mode. Every
// fuzzer starts from failByDrop false, as the suite's do.
//
//	failByDrop                   bool    FailByDrop
//	openHandshakeTimeout         seconds OpenHandshakeTimeout (0 disables)
//	closeHandshakeTimeout        seconds CloseHandshakeTimeout (0 disables)
//	autoFragmentSize             octets  AutoFragmentSize (0: none)
//	maxFramePayloadSize          octets  MaxFramePayloadSize (0: none)
//	maxMessagePayloadSize        octets  MaxMessageSize (0 keeps the default bound)
//	utf8validateIncoming         bool    !NoUTF8Validation
//	applyMask                    bool    !NoApplyMask
//	echoCloseCodeReason          bool    EchoCloseCodeReason
//	tcpNoDelay                   bool    !NoTCPNoDelay
//	version                      int     WebSocketVersion (fuzzingclient: 10-18)
//	serverConnectionDropTimeout  seconds ServerDropTimeout (fuzzingclient)
//	maskClientFrames             bool    !UnmaskedClientFrames (fuzzingclient)
//	acceptMaskedServerFrames     bool    AcceptMaskedServerFrames (fuzzingclient)
//	versions                     [int]   AcceptVersions (fuzzingserver: 8, 13)
//	maskServerFrames             bool    MaskedServerFrames (fuzzingserver)
//	requireMaskedClientFrames    bool    !AcceptUnmaskedClientFrames (fuzzingserver)
//
// The suite's other options (allowHixie76, webStatus, autoPingInterval,
// autoPingTimeout, autoPingSize, perMessageCompressionOffers,
// perMessageCompressionAccept, serveFlashSocketPolicy, flashSocketPolicy,
// allowedOrigins, maxConnections), an option of the other mode and an
// unknown name give a warning and are ignored. A value of the wrong type
// or out of range is an error.
func (o *Options) ApplyProtocolOptions(opts map[string]any, mode string) (warnings []string, err error) {
	keys := slices.Sorted(maps.Keys(opts))
	for _, k := range keys {
		v := opts[k]
		switch {
		case mode == ModeFuzzingServer && slices.Contains(clientOnlyOptions, k),
			mode == ModeFuzzingClient && slices.Contains(serverOnlyOptions, k):
			warnings = append(warnings, fmt.Sprintf("%s applies to the other mode; ignored", k))
			continue
		case slices.Contains(unsupportedOptions, k):
			warnings = append(warnings, fmt.Sprintf("%s is not supported; ignored", k))
			continue
		}
		if err := o.applyOption(k, v); err != nil {
			if errors.Is(err, errUnknownOption) {
				warnings = append(warnings, fmt.Sprintf("unknown option %q; ignored", k))
				continue
			}
			return warnings, fmt.Errorf("%s: %w", k, err)
		}
	}
	return warnings, nil
}

var errUnknownOption = errors.New("unknown option")

func (o *Options) applyOption(k string, v any) error {
	flag := func(dst *bool, invert bool) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%v is not true or false", v)
		}
		*dst = b != invert
		return nil
	}
	number := func() (float64, error) {
		f, ok := v.(float64)
		if !ok {
			return 0, fmt.Errorf("%v is not a number", v)
		}
		if f < 0 {
			return 0, fmt.Errorf("%v is negative", v)
		}
		return f, nil
	}
	integer := func() (int64, error) {
		f, err := number()
		if err != nil {
			return 0, err
		}
		if f != math.Trunc(f) || f > 1<<53 {
			return 0, fmt.Errorf("%v is not a whole number", v)
		}
		return int64(f), nil
	}
	seconds := func(dst *time.Duration) error {
		f, err := number()
		if err != nil {
			return err
		}
		if f == 0 {
			*dst = -1 // the suite's 0: no timeout
			return nil
		}
		if f > 24*3600 {
			return fmt.Errorf("%v s is more than a day", v)
		}
		*dst = time.Duration(f * float64(time.Second))
		return nil
	}
	switch k {
	case "failByDrop":
		return flag(&o.FailByDrop, false)
	case "utf8validateIncoming":
		return flag(&o.NoUTF8Validation, true)
	case "applyMask":
		return flag(&o.NoApplyMask, true)
	case "echoCloseCodeReason":
		return flag(&o.EchoCloseCodeReason, false)
	case "tcpNoDelay":
		return flag(&o.NoTCPNoDelay, true)
	case "maskClientFrames":
		return flag(&o.UnmaskedClientFrames, true)
	case "acceptMaskedServerFrames":
		return flag(&o.AcceptMaskedServerFrames, false)
	case "maskServerFrames":
		return flag(&o.MaskedServerFrames, false)
	case "requireMaskedClientFrames":
		return flag(&o.AcceptUnmaskedClientFrames, true)
	case "openHandshakeTimeout":
		return seconds(&o.OpenHandshakeTimeout)
	case "closeHandshakeTimeout":
		return seconds(&o.CloseHandshakeTimeout)
	case "serverConnectionDropTimeout":
		return seconds(&o.ServerDropTimeout)
	case "autoFragmentSize":
		n, err := integer()
		if err == nil && n > 1<<30 {
			err = fmt.Errorf("%d is too large", n)
		}
		o.AutoFragmentSize = int(n)
		return err
	case "maxFramePayloadSize":
		n, err := integer()
		o.MaxFramePayloadSize = n
		return err
	case "maxMessagePayloadSize":
		n, err := integer()
		if n > 0 {
			o.MaxMessageSize = n
		}
		return err
	case "version":
		n, err := integer()
		if err != nil {
			return err
		}
		if n == 0 {
			return errHixie76
		}
		w, ok := draftToWireVersion[int(n)]
		if !ok {
			return fmt.Errorf("invalid WebSocket draft version %d (10 to 18)", n)
		}
		o.WebSocketVersion = w
		return nil
	case "versions":
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%v is not a list", v)
		}
		o.AcceptVersions = nil
		for _, x := range list {
			f, ok := x.(float64)
			switch {
			case !ok:
				return fmt.Errorf("%v is not a number", x)
			case f == 0:
				return errHixie76
			case !slices.Contains(acceptableVersions, int(f)) || f != math.Trunc(f):
				return fmt.Errorf("invalid WebSocket protocol version %v (8 or 13)", x)
			}
			o.AcceptVersions = append(o.AcceptVersions, int(f))
		}
		return nil
	}
	return errUnknownOption
}
