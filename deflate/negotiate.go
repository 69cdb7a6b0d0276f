package deflate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wirelevel/ws/handshake"
)

// ExtensionName is the token that names permessage-deflate in
// Sec-WebSocket-Extensions (RFC 7692, Section 7).
const ExtensionName = "permessage-deflate"

// The extension parameters of RFC 7692, Section 7.1.
const (
	paramServerNoContext = "server_no_context_takeover"
	paramClientNoContext = "client_no_context_takeover"
	paramServerBits      = "server_max_window_bits"
	paramClientBits      = "client_max_window_bits"
)

// ErrParams reports a permessage-deflate offer or response whose parameters
// break RFC 7692, Section 7.1. The errors that wrap it say which rule.
var ErrParams = errors.New("deflate: bad permessage-deflate parameters")

// Params are the parameters of one permessage-deflate offer (in a request)
// or response (in a 101), as RFC 7692, Section 7.1 defines them. The zero
// value is the bare "permessage-deflate".
type Params struct {
	ServerNoContextTakeover bool // server_no_context_takeover
	ClientNoContextTakeover bool // client_no_context_takeover

	// ServerMaxWindowBits is the value of server_max_window_bits, 8 to 15,
	// or 0 if the parameter is absent.
	ServerMaxWindowBits int

	// ClientMaxWindowBits is the value of client_max_window_bits, 8 to 15,
	// or 0 if the parameter is absent or, in an offer, has no value.
	ClientMaxWindowBits int

	// ClientMaxWindowBitsSent records that client_max_window_bits appeared
	// at all. In an offer it may come without a value: the client says it
	// can compress with a window the response chooses (Section 7.1.2.2).
	ClientMaxWindowBitsSent bool
}

// ParseOffer reads the parameters of a permessage-deflate offer, the
// extension e from a client's Sec-WebSocket-Extensions. It accepts only the
// four parameters of Section 7.1, each at most once; the two
// no_context_takeover parameters take no value; server_max_window_bits
// takes one, client_max_window_bits may. A window-bits value is a decimal
// from 8 to 15 without leading zeros ("8" to "15"), quoted or not. Errors
// wrap [ErrParams].
func ParseOffer(e handshake.Extension) (Params, error) { return parse(e, false) }

// ParseResponse reads the parameters of a server's permessage-deflate
// response, by the rules of [ParseOffer] except that client_max_window_bits
// must have a value (Section 7.1.2.2).
func ParseResponse(e handshake.Extension) (Params, error) { return parse(e, true) }

func parse(e handshake.Extension, response bool) (Params, error) {
	var p Params
	if e.Name != ExtensionName {
		return p, fmt.Errorf("%w: extension %q is not %s", ErrParams, e.Name, ExtensionName)
	}
	var seen [4]bool
	for _, q := range e.Params {
		var i int
		switch q.Name {
		case paramServerNoContext:
			i = 0
		case paramClientNoContext:
			i = 1
		case paramServerBits:
			i = 2
		case paramClientBits:
			i = 3
		default:
			return p, fmt.Errorf("%w: unknown parameter %q", ErrParams, q.Name)
		}
		if seen[i] {
			return p, fmt.Errorf("%w: %s repeated", ErrParams, q.Name)
		}
		seen[i] = true
		switch i {
		case 0, 1:
			// "This parameter has no value" (Sections 7.1.1.1, 7.1.1.2).
			if q.HasValue {
				return p, fmt.Errorf("%w: %s takes no value", ErrParams, q.Name)
			}
			if i == 0 {
				p.ServerNoContextTakeover = true
			} else {
				p.ClientNoContextTakeover = true
			}
		case 2:
			bits, err := parseWindowBits(q)
			if err != nil {
				return p, err
			}
			p.ServerMaxWindowBits = bits
		case 3:
			p.ClientMaxWindowBitsSent = true
			// "This parameter has no value or a decimal integer value"
			// in an offer (Section 7.1.2.2); a response must give one.
			if !q.HasValue && !response {
				break
			}
			bits, err := parseWindowBits(q)
			if err != nil {
				return p, err
			}
			p.ClientMaxWindowBits = bits
		}
	}
	return p, nil
}

// parseWindowBits reads a window-bits value: "a decimal integer value between 8
// to 15, inclusive ... without leading zeros" (Section 7.1.2).
func parseWindowBits(q handshake.Param) (int, error) {
	v := q.Value
	if q.HasValue && (len(v) == 1 && v[0] >= '8' && v[0] <= '9' || len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') {
		n, _ := strconv.Atoi(v)
		return n, nil
	}
	if !q.HasValue {
		return 0, fmt.Errorf("%w: %s needs a value from 8 to 15", ErrParams, q.Name)
	}
	return 0, fmt.Errorf("%w: %s=%q is not a value from 8 to 15", ErrParams, q.Name, v)
}

// String returns the extension as it appears in Sec-WebSocket-Extensions:
// the name, then the parameters that are set, in the order
// server_no_context_takeover, client_no_context_takeover,
// server_max_window_bits, client_max_window_bits (without a value when
// ClientMaxWindowBitsSent is set and ClientMaxWindowBits is 0).
// ParseOffer of what it returns gives p back.
func (p Params) String() string {
	var b strings.Builder
	b.WriteString(ExtensionName)
	if p.ServerNoContextTakeover {
		b.WriteString("; " + paramServerNoContext)
	}
	if p.ClientNoContextTakeover {
		b.WriteString("; " + paramClientNoContext)
	}
	if p.ServerMaxWindowBits != 0 {
		b.WriteString("; " + paramServerBits + "=" + strconv.Itoa(p.ServerMaxWindowBits))
	}
	if p.ClientMaxWindowBits != 0 {
		b.WriteString("; " + paramClientBits + "=" + strconv.Itoa(p.ClientMaxWindowBits))
	} else if p.ClientMaxWindowBitsSent {
		b.WriteString("; " + paramClientBits)
	}
	return b.String()
}

// Config is what one endpoint asks of permessage-deflate: whether each side
// compresses every message on its own, and the largest window each side's
// compressor may use. The zero value asks for nothing: context takeover
// both ways and 32 KiB windows.
type Config struct {
	// ServerNoContextTakeover makes the server compress every message on
	// its own (Section 7.1.1.1): a server says so in its response, a client
	// asks for it in its offer.
	ServerNoContextTakeover bool

	// ClientNoContextTakeover does the same for the client's messages
	// (Section 7.1.1.2).
	ClientNoContextTakeover bool

	// ServerMaxWindowBits and ClientMaxWindowBits bound the LZ77 window of
	// the server's and the client's compressor, 8 to 15; 0 means 15
	// (Section 7.1.2).
	ServerMaxWindowBits int
	ClientMaxWindowBits int
}

// Check returns an error for window bits outside 8 to 15.
func (c Config) Check() error {
	for _, b := range []int{c.ServerMaxWindowBits, c.ClientMaxWindowBits} {
		if b != 0 && (b < 8 || b > 15) {
			return fmt.Errorf("deflate: window bits %d out of range 8-15", b)
		}
	}
	return nil
}

// Agreement is what a handshake settled: for each side, the window its
// compressor uses and whether it compresses every message on its own.
type Agreement struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerWindowBits        int // 8 to 15
	ClientWindowBits        int // 8 to 15
}

func bitsOr15(b int) int {
	if b == 0 {
		return 15
	}
	return b
}

// Offer returns the offer a client with this configuration makes. It always
// names client_max_window_bits, so that a server may ask for a smaller
// client window (Section 7.1.2.2), with a value if the configuration limits
// the client's window below 15; it names server_max_window_bits only for a
// limit below 15.
func (c Config) Offer() Params {
	p := Params{
		ServerNoContextTakeover: c.ServerNoContextTakeover,
		ClientNoContextTakeover: c.ClientNoContextTakeover,
		ClientMaxWindowBitsSent: true,
	}
	if b := c.ServerMaxWindowBits; b != 0 && b < 15 {
		p.ServerMaxWindowBits = b
	}
	if b := c.ClientMaxWindowBits; b != 0 && b < 15 {
		p.ClientMaxWindowBits = b
	}
	return p
}

// Accept answers a client's offer as a server with this configuration: it
// returns the response to send and the agreement, or an error wrapping
// [ErrParams] if the offer cannot be accepted (a server then declines it and
// may accept another, Section 5.1).
//
// Context takeover is given up on each side that either endpoint asks. The
// server's window is the smaller of what the offer and the configuration
// allow; the response names server_max_window_bits only if the offer did,
// since some browsers refuse a response parameter they did not offer, and
// any decompressor handles a smaller window than announced. The client's
// window can be limited only when the offer names client_max_window_bits
// (Section 7.1.2.2).
func (c Config) Accept(offer handshake.Extension) (Params, Agreement, error) {
	o, err := ParseOffer(offer)
	if err != nil {
		return Params{}, Agreement{}, err
	}
	a := Agreement{
		ServerNoContextTakeover: o.ServerNoContextTakeover || c.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover || c.ClientNoContextTakeover,
		ServerWindowBits:        min(bitsOr15(o.ServerMaxWindowBits), bitsOr15(c.ServerMaxWindowBits)),
		ClientWindowBits:        15,
	}
	r := Params{
		ServerNoContextTakeover: a.ServerNoContextTakeover,
		ClientNoContextTakeover: a.ClientNoContextTakeover,
	}
	if o.ServerMaxWindowBits != 0 {
		r.ServerMaxWindowBits = a.ServerWindowBits
	}
	if o.ClientMaxWindowBitsSent {
		a.ClientWindowBits = min(bitsOr15(o.ClientMaxWindowBits), bitsOr15(c.ClientMaxWindowBits))
		if a.ClientWindowBits < 15 || o.ClientMaxWindowBits != 0 {
			r.ClientMaxWindowBits = a.ClientWindowBits
		}
	}
	return r, a, nil
}

// CheckResponse checks a server's response to the offer this configuration
// makes ([Config.Offer]) and returns the agreement. A response that breaks
// Section 7.1, or grants less than the offer required, is an error: the
// client fails the connection (Section 5.1).
func (c Config) CheckResponse(resp handshake.Extension) (Agreement, error) {
	r, err := ParseResponse(resp)
	if err != nil {
		return Agreement{}, err
	}
	if r.ServerMaxWindowBits != 0 && c.ServerMaxWindowBits != 0 && r.ServerMaxWindowBits > c.ServerMaxWindowBits {
		return Agreement{}, fmt.Errorf("%w: server_max_window_bits=%d over the %d offered", ErrParams, r.ServerMaxWindowBits, c.ServerMaxWindowBits)
	}
	if c.ServerNoContextTakeover && !r.ServerNoContextTakeover {
		return Agreement{}, fmt.Errorf("%w: the response lacks the server_no_context_takeover offered", ErrParams)
	}
	if r.ClientMaxWindowBits > bitsOr15(c.ClientMaxWindowBits) {
		return Agreement{}, fmt.Errorf("%w: client_max_window_bits=%d over the %d offered", ErrParams, r.ClientMaxWindowBits, bitsOr15(c.ClientMaxWindowBits))
	}
	return Agreement{
		ServerNoContextTakeover: r.ServerNoContextTakeover,
		ClientNoContextTakeover: r.ClientNoContextTakeover || c.ClientNoContextTakeover,
		ServerWindowBits:        bitsOr15(r.ServerMaxWindowBits),
		ClientWindowBits:        min(bitsOr15(r.ClientMaxWindowBits), bitsOr15(c.ClientMaxWindowBits)),
	}, nil
}

// CompressorOptions returns the options of the compressor of the server
// (server set) or the client, at the given level.
func (a Agreement) CompressorOptions(server bool, level Level) CompressorOptions {
	if server {
		return CompressorOptions{Level: level, WindowBits: a.ServerWindowBits, NoContextTakeover: a.ServerNoContextTakeover}
	}
	return CompressorOptions{Level: level, WindowBits: a.ClientWindowBits, NoContextTakeover: a.ClientNoContextTakeover}
}

// DecompressorOptions returns the options of the decompressor of the server
// (server set) or the client: it inflates what the other side compressed.
func (a Agreement) DecompressorOptions(server bool) DecompressorOptions {
	if server {
		return DecompressorOptions{WindowBits: a.ClientWindowBits, NoContextTakeover: a.ClientNoContextTakeover}
	}
	return DecompressorOptions{WindowBits: a.ServerWindowBits, NoContextTakeover: a.ServerNoContextTakeover}
}
