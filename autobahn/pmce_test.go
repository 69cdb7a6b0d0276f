package autobahn

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wirelevel/ws/deflate/deflatetest"
)

func TestParseOffers(t *testing.T) {
	tests := []struct {
		header string
		want   []pmceOffer
		err    bool
	}{
		{header: ""},
		{header: "x-webkit-deflate-frame"},
		{header: "permessage-deflate", want: []pmceOffer{{}}},
		{header: "permessage-deflate; client_max_window_bits", want: []pmceOffer{{hasClientMaxBits: true}}},
		{header: "permessage-deflate; client_max_window_bits=10; server_max_window_bits=9; server_no_context_takeover; client_no_context_takeover",
			want: []pmceOffer{{hasClientMaxBits: true, clientMaxBits: 10, serverMaxBits: 9, serverNoContext: true, clientNoContext: true}}},
		{header: "foo, permessage-deflate; server_max_window_bits=15, permessage-deflate",
			want: []pmceOffer{{serverMaxBits: 15}, {}}},
		{header: `permessage-deflate; server_max_window_bits="12"`, want: []pmceOffer{{serverMaxBits: 12}}},
		{header: "permessage-deflate; server_max_window_bits", err: true},
		{header: "permessage-deflate; server_max_window_bits=16", err: true},
		{header: "permessage-deflate; server_max_window_bits=7", err: true},
		{header: "permessage-deflate; server_max_window_bits=09", err: true},
		{header: "permessage-deflate; client_max_window_bits=x", err: true},
		{header: "permessage-deflate; server_no_context_takeover=1", err: true},
		{header: "permessage-deflate; unknown_param", err: true},
		{header: "permessage-deflate; client_max_window_bits; client_max_window_bits", err: true},
		{header: "permessage-deflate;;", err: true},
	}
	for _, tt := range tests {
		got, err := parseOffers(tt.header)
		if (err != nil) != tt.err {
			t.Errorf("parseOffers(%q) error = %v, want error %v", tt.header, err, tt.err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("parseOffers(%q) = %+v, want %+v", tt.header, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("parseOffers(%q)[%d] = %+v, want %+v", tt.header, i, got[i], tt.want[i])
			}
		}
	}
}

// TestAcceptOffer checks the accept rules of sections 12 and 13 against
// typical client offers, including the suite's quirk that
// client_no_context_takeover is always taken as allowed.
func TestAcceptOffer(t *testing.T) {
	rules := func(id string) []PMCEAcceptRule { return LookupCase(id).PMCE.ServerAcceptOrder }
	offers := func(h string) []pmceOffer {
		o, err := parseOffers(h)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	const (
		plain    = "permessage-deflate"
		withBits = "permessage-deflate; client_max_window_bits"
		browser  = "permessage-deflate; client_max_window_bits, permessage-deflate"
		server9  = "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"
	)
	tests := []struct {
		caseID, offer, want string // want "" = nothing accepted
	}{
		{"12.1.1", plain, "permessage-deflate"},
		{"12.1.1", "", ""},
		{"12.1.1", server9, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"},
		{"13.1.1", withBits, "permessage-deflate"},
		{"13.2.1", plain, "permessage-deflate; client_no_context_takeover"}, // quirk
		{"13.3.1", plain, ""},
		{"13.3.1", withBits, "permessage-deflate; client_max_window_bits=9"},
		{"13.4.1", withBits, "permessage-deflate; client_max_window_bits=15"},
		{"13.5.1", withBits, "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"},
		{"13.5.1", plain, ""},
		{"13.6.1", browser, "permessage-deflate; client_no_context_takeover; client_max_window_bits=15"},
		{"13.7.1", plain, "permessage-deflate; client_no_context_takeover"}, // try 2, by the quirk
		{"13.7.1", "permessage-deflate, " + withBits, "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"},
		{"13.7.1", server9, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_no_context_takeover"},
	}
	for _, tt := range tests {
		p := acceptOffer(rules(tt.caseID), offers(tt.offer))
		got := ""
		if p != nil {
			got = p.Response
		}
		if got != tt.want {
			t.Errorf("%s, offer %q: accepted %q, want %q", tt.caseID, tt.offer, got, tt.want)
		}
	}
	p := acceptOffer(rules("13.5.1"), offers(server9+"; client_max_window_bits"))
	if bits, noCtx := p.fuzzerWindow(false); bits != 9 || !noCtx {
		t.Errorf("server fuzzer window = %d, %v, want 9, true", bits, noCtx)
	}
	if bits, noCtx := p.fuzzerWindow(true); bits != 9 || !noCtx {
		t.Errorf("client window = %d, %v, want 9, true", bits, noCtx)
	}
}

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		header  string
		offered bool
		want    *Negotiated
		err     bool
	}{
		{header: "", offered: true},
		{header: "", offered: false},
		{header: "permessage-deflate", offered: true, want: &Negotiated{}},
		{header: "permessage-deflate; client_max_window_bits=9; server_no_context_takeover", offered: true,
			want: &Negotiated{ClientMaxWindowBits: 9, ServerNoContextTakeover: true}},
		// Not checked against the offer, like the suite.
		{header: "permessage-deflate; server_max_window_bits=10; client_no_context_takeover", offered: true,
			want: &Negotiated{ServerMaxWindowBits: 10, ClientNoContextTakeover: true}},
		{header: "permessage-deflate", offered: false, err: true},
		{header: "permessage-deflate, permessage-deflate", offered: true, err: true},
		{header: "x-other", offered: true, err: true},
		{header: "permessage-deflate; client_max_window_bits", offered: true, err: true},
		{header: "permessage-deflate; bogus", offered: true, err: true},
	}
	for _, tt := range tests {
		got, err := parseAccepted(tt.header, tt.offered)
		if (err != nil) != tt.err {
			t.Errorf("parseAccepted(%q) error = %v, want error %v", tt.header, err, tt.err)
			continue
		}
		if (got == nil) != (tt.want == nil) {
			t.Errorf("parseAccepted(%q) = %+v, want %+v", tt.header, got, tt.want)
			continue
		}
		if got != nil {
			got.Response = ""
			if *got != *tt.want {
				t.Errorf("parseAccepted(%q) = %+v, want %+v", tt.header, got, tt.want)
			}
		}
	}
	if h := clientOfferHeader(LookupCase("13.7.1").PMCE); strings.Count(h, "permessage-deflate") != 3 || !strings.Contains(h, ", ") {
		t.Errorf("13.7 offer header %q", h)
	}
}

// TestCodecRoundTrip compresses messages with every window and context
// mode and decompresses them with the inflater.
func TestCodecRoundTrip(t *testing.T) {
	ds, err := LoadDataset("json_data1")
	if err != nil {
		t.Fatal(err)
	}
	for _, bits := range []int{8, 9, 12, 15} {
		for _, noCtx := range []bool{false, true} {
			d := newDeflater(bits, noCtx, 6)
			var f inflater
			for k := range 30 {
				msg := ds.Message(k, 64+k*97)
				if k == 7 {
					msg = nil
				}
				comp := d.compress(msg)
				if bytes.HasSuffix(comp, []byte{0x00, 0x00, 0xff, 0xff}) {
					t.Fatalf("bits %d: compressed message keeps its 00 00 ff ff tail", bits)
				}
				got, err := f.inflate(bytes.Clone(comp), 1<<20)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("bits %d noCtx %v message %d: round trip failed: %v", bits, noCtx, k, err)
				}
			}
		}
	}
	var f inflater
	if _, err := f.inflate([]byte{0xff, 0xff, 0xff}, 100); err == nil {
		t.Error("inflate of garbage succeeded")
	}
	d := newDeflater(15, false, 6)
	if _, err := (&inflater{}).inflate(d.compress(make([]byte, 1000)), 999); err != errInflateTooBig {
		t.Errorf("inflate over the limit: %v, want errInflateTooBig", err)
	}
}

// TestDeflaterWindow checks with a strict reference inflater that the
// compressor never refers further back than the negotiated window, with and
// without context takeover.
func TestDeflaterWindow(t *testing.T) {
	ds, err := LoadDataset("json_data1")
	if err != nil {
		t.Fatal(err)
	}
	for _, bits := range []int{8, 9, 10, 15} {
		for _, noCtx := range []bool{false, true} {
			d := newDeflater(bits, noCtx, 6)
			ref := &deflatetest.Inflater{Window: 1 << bits, Takeover: !noCtx}
			for k := range 20 {
				msg := ds.Message(k, 3000)
				got, err := ref.Message(bytes.Clone(d.compress(msg)))
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("window %d noCtx %v message %d: %v", bits, noCtx, k, err)
				}
			}
			if ref.Stats.MaxDistance > 1<<bits || ref.Stats.Matches == 0 {
				t.Errorf("window %d: max distance %d, %d matches", bits, ref.Stats.MaxDistance, ref.Stats.Matches)
			}
		}
	}
}
