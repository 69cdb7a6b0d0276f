package deflate

import (
	"errors"
	"testing"

	"github.com/wirelevel/ws/handshake"
)

func ext(t *testing.T, s string) handshake.Extension {
	t.Helper()
	exts, err := handshake.ParseExtensions(s)
	if err != nil || len(exts) != 1 {
		t.Fatalf("ParseExtensions(%q) = %v, %v", s, exts, err)
	}
	return exts[0]
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		offer    Params // want from ParseOffer
		offerOK  bool
		response bool // ParseResponse accepts it too, with the same Params
	}{
		{"bare", "permessage-deflate", Params{}, true, true},
		{"all four", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10",
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 10, ClientMaxWindowBitsSent: true}, true, true},
		{"client bits without value", "permessage-deflate; client_max_window_bits", Params{ClientMaxWindowBitsSent: true}, true, false},
		{"quoted value", `permessage-deflate; server_max_window_bits="12"`, Params{ServerMaxWindowBits: 12}, true, true},
		{"8 and 15", "permessage-deflate; server_max_window_bits=8; client_max_window_bits=15", Params{ServerMaxWindowBits: 8, ClientMaxWindowBits: 15, ClientMaxWindowBitsSent: true}, true, true},
		{"7", "permessage-deflate; server_max_window_bits=7", Params{}, false, false},
		{"16", "permessage-deflate; client_max_window_bits=16", Params{}, false, false},
		{"leading zero", "permessage-deflate; server_max_window_bits=09", Params{}, false, false},
		{"plus sign", "permessage-deflate; server_max_window_bits=+9", Params{}, false, false},
		{"server bits without value", "permessage-deflate; server_max_window_bits", Params{}, false, false},
		{"no_context_takeover with value", "permessage-deflate; client_no_context_takeover=1", Params{}, false, false},
		{"repeated", "permessage-deflate; server_no_context_takeover; server_no_context_takeover", Params{}, false, false},
		{"unknown", "permessage-deflate; x", Params{}, false, false},
		{"other extension", "x-webkit-deflate-frame", Params{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ext(t, tt.value)
			p, err := ParseOffer(e)
			if (err == nil) != tt.offerOK || (err == nil && p != tt.offer) {
				t.Fatalf("ParseOffer(%q) = %+v, %v; want %+v, ok %v", tt.value, p, err, tt.offer, tt.offerOK)
			}
			if err != nil && !errors.Is(err, ErrParams) {
				t.Fatalf("ParseOffer(%q) error %v does not wrap ErrParams", tt.value, err)
			}
			r, err := ParseResponse(e)
			if (err == nil) != tt.response || (err == nil && r != tt.offer) {
				t.Fatalf("ParseResponse(%q) = %+v, %v; want %+v, ok %v", tt.value, r, err, tt.offer, tt.response)
			}
			if tt.offerOK {
				if q, err := ParseOffer(ext(t, p.String())); err != nil || q != p {
					t.Fatalf("String() = %q parses to %+v, %v", p.String(), q, err)
				}
			}
		})
	}
}

func TestConfigAcceptAndCheck(t *testing.T) {
	tests := []struct {
		name   string
		server Config
		client Config
		answer string
		agreed Agreement
	}{
		{"defaults", Config{}, Config{}, "permessage-deflate",
			Agreement{ServerWindowBits: 15, ClientWindowBits: 15}},
		{"client asks both no takeover", Config{}, Config{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			Agreement{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerWindowBits: 15, ClientWindowBits: 15}},
		{"server limits the client window", Config{ClientMaxWindowBits: 10}, Config{}, "permessage-deflate; client_max_window_bits=10",
			Agreement{ServerWindowBits: 15, ClientWindowBits: 10}},
		{"client limits the server window", Config{ServerMaxWindowBits: 12}, Config{ServerMaxWindowBits: 9},
			"permessage-deflate; server_max_window_bits=9", Agreement{ServerWindowBits: 9, ClientWindowBits: 15}},
		{"server's own smaller window is not announced", Config{ServerMaxWindowBits: 9}, Config{}, "permessage-deflate",
			Agreement{ServerWindowBits: 9, ClientWindowBits: 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer := tt.client.Offer()
			resp, a, err := tt.server.Accept(ext(t, offer.String()))
			if err != nil || resp.String() != tt.answer || a != tt.agreed {
				t.Fatalf("Accept(%q) = %q, %+v, %v; want %q, %+v", offer, resp, a, err, tt.answer, tt.agreed)
			}
			ca, err := tt.client.CheckResponse(ext(t, resp.String()))
			if err != nil {
				t.Fatalf("CheckResponse(%q): %v", resp, err)
			}
			// The client's decompressor window covers the server's compressor.
			if ca.ServerWindowBits < a.ServerWindowBits || ca.ClientWindowBits != a.ClientWindowBits {
				t.Fatalf("client agreed %+v, server %+v", ca, a)
			}
		})
	}
	bad := []struct {
		client Config
		answer string
	}{
		{Config{ClientMaxWindowBits: 10}, "permessage-deflate; client_max_window_bits=12"},
		{Config{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=12"},
		{Config{ServerNoContextTakeover: true}, "permessage-deflate"},
		{Config{}, "permessage-deflate; client_max_window_bits"},
	}
	for _, b := range bad {
		if _, err := b.client.CheckResponse(ext(t, b.answer)); !errors.Is(err, ErrParams) {
			t.Errorf("offer %q, CheckResponse(%q) = %v, want an ErrParams error", b.client.Offer(), b.answer, err)
		}
	}
}
