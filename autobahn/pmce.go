package autobahn

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wirelevel/ws/deflate"
	"github.com/wirelevel/ws/handshake"
)

// permessage-deflate (RFC 7692) negotiation for sections 12 and 13: the
// suite's accept rules and its parameter order, over package deflate's
// parser of the parameters. The compression itself lives in codec.go.

const pmceName = deflate.ExtensionName

// RFC 7692 parameter names.
const (
	paramServerNoContext = "server_no_context_takeover"
	paramClientNoContext = "client_no_context_takeover"
	paramServerMaxBits   = "server_max_window_bits"
	paramClientMaxBits   = "client_max_window_bits"
)

// Negotiated is the permessage-deflate configuration (RFC 7692) agreed in
// the opening handshake of a 12.x or 13.x case.
type Negotiated struct {
	Response string `json:"response"` // the extension as the 101 response names it

	ServerNoContextTakeover bool `json:"serverNoContextTakeover"`
	ClientNoContextTakeover bool `json:"clientNoContextTakeover"`
	ServerMaxWindowBits     int  `json:"serverMaxWindowBits"` // 0: not limited (15)
	ClientMaxWindowBits     int  `json:"clientMaxWindowBits"` // 0: not limited (15)
}

// fuzzerWindow returns the window bits and no-context-takeover flag the
// fuzzer compresses with: the parameters for its own direction.
func (p *Negotiated) fuzzerWindow(fuzzerIsClient bool) (bits int, noContext bool) {
	bits, noContext = p.ServerMaxWindowBits, p.ServerNoContextTakeover
	if fuzzerIsClient {
		bits, noContext = p.ClientMaxWindowBits, p.ClientNoContextTakeover
	}
	if bits == 0 {
		bits = 15
	}
	return bits, noContext
}

// pmceOffer is a permessage-deflate offer from a testee client.
type pmceOffer struct {
	serverNoContext  bool
	clientNoContext  bool
	serverMaxBits    int // 0: absent
	hasClientMaxBits bool
	clientMaxBits    int // 0: absent or without value
}

var errPMCE = errors.New("autobahn: bad permessage-deflate parameters")

// parseOffers parses the testee client's Sec-WebSocket-Extensions header and
// returns its permessage-deflate offers in order. Other extensions are
// ignored; a permessage-deflate offer with an unknown, repeated or badly
// valued parameter is an error (the handshake fails with 400).
func parseOffers(header string) ([]pmceOffer, error) {
	if strings.TrimSpace(header) == "" {
		return nil, nil
	}
	exts, err := handshake.ParseExtensions(header)
	if err != nil {
		return nil, err
	}
	var offers []pmceOffer
	for _, e := range exts {
		if e.Name != pmceName {
			continue
		}
		p, err := deflate.ParseOffer(e)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errPMCE, err)
		}
		o := pmceOffer{
			serverNoContext:  p.ServerNoContextTakeover,
			clientNoContext:  p.ClientNoContextTakeover,
			serverMaxBits:    p.ServerMaxWindowBits,
			hasClientMaxBits: p.ClientMaxWindowBitsSent,
			clientMaxBits:    p.ClientMaxWindowBits,
		}
		offers = append(offers, o)
	}
	return offers, nil
}

// acceptOffer applies a case's accept rule to the client's offers (CASES.md,
// Section B.13): each try, in order, is applied to the whole offer list, and
// the first offer meeting the try's requirement wins. Like the suite, it
// takes every offer to allow client_no_context_takeover, whether or not the
// offer names it. It returns nil when no offer qualifies.
func acceptOffer(rules []PMCEAcceptRule, offers []pmceOffer) *Negotiated {
	for _, rule := range rules {
		for _, o := range offers {
			ok := true
			for _, req := range rule.RequiresInOffer {
				switch req {
				case paramClientNoContext:
					// The suite's offer parser defaults this to allowed.
				case paramClientMaxBits:
					ok = ok && o.hasClientMaxBits
				default:
					ok = false
				}
			}
			if !ok {
				continue
			}
			p := &Negotiated{
				ServerNoContextTakeover: o.serverNoContext,
				ServerMaxWindowBits:     o.serverMaxBits,
				ClientNoContextTakeover: rule.RespondClientNoContextTakeover,
			}
			if rule.RespondClientMaxWindowBits != nil {
				p.ClientMaxWindowBits = *rule.RespondClientMaxWindowBits
			}
			resp := pmceName
			if p.ServerNoContextTakeover {
				resp += "; " + paramServerNoContext
			}
			if p.ServerMaxWindowBits != 0 {
				resp += "; " + paramServerMaxBits + "=" + strconv.Itoa(p.ServerMaxWindowBits)
			}
			if p.ClientNoContextTakeover {
				resp += "; " + paramClientNoContext
			}
			if p.ClientMaxWindowBits != 0 {
				resp += "; " + paramClientMaxBits + "=" + strconv.Itoa(p.ClientMaxWindowBits)
			}
			p.Response = resp
			return p
		}
	}
	return nil
}

// clientOfferHeader returns the Sec-WebSocket-Extensions value a client-mode
// fuzzer sends for a case: its offers joined with ", ".
func clientOfferHeader(spec *PMCESpec) string {
	hs := make([]string, len(spec.ClientOffers))
	for i, o := range spec.ClientOffers {
		hs[i] = o.Header
	}
	return strings.Join(hs, ", ")
}

// parseAccepted parses the Sec-WebSocket-Extensions header of a testee
// server's 101 response to a client-mode fuzzer. Like the suite, it does not
// compare the response with the offers; but any extension other than one
// permessage-deflate, and any unknown or badly valued parameter, fails the
// handshake. offered says whether the fuzzer offered permessage-deflate at
// all. It returns nil when the server accepted nothing.
func parseAccepted(header string, offered bool) (*Negotiated, error) {
	if strings.TrimSpace(header) == "" {
		return nil, nil
	}
	exts, err := handshake.ParseExtensions(header)
	if err != nil {
		return nil, err
	}
	var p *Negotiated
	for _, e := range exts {
		if e.Name != pmceName || !offered {
			return nil, fmt.Errorf("autobahn: server accepted extension %q, which was not offered", e.Name)
		}
		if p != nil {
			return nil, errors.New("autobahn: server accepted permessage-deflate twice")
		}
		r, err := deflate.ParseResponse(e)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errPMCE, err)
		}
		p = &Negotiated{
			ServerNoContextTakeover: r.ServerNoContextTakeover,
			ClientNoContextTakeover: r.ClientNoContextTakeover,
			ServerMaxWindowBits:     r.ServerMaxWindowBits,
			ClientMaxWindowBits:     r.ClientMaxWindowBits,
		}
	}
	if p != nil {
		p.Response = strings.TrimSpace(header)
	}
	return p, nil
}
