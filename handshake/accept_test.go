package handshake

import (
	"encoding/base64"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want string
	}{
		// RFC 6455, Section 1.3.
		{name: "rfc 6455 section 1.3", key: rfcKey, want: rfcAccept},
		// RFC 6455, Section 4.2.2 says the key is used "as present in the
		// header field": no decoding, no trimming inside AcceptKey.
		{name: "other key", key: "x3JJHMbDL1EzLkh9GBhXDw==", want: "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
		{name: "empty key", key: "", want: "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AcceptKey(tt.key); got != tt.want {
				t.Errorf("AcceptKey(%q) = %q, want %q", tt.key, got, tt.want)
			}
			if got := string(AppendAcceptKey([]byte("x"), []byte(tt.key))); got != "x"+tt.want {
				t.Errorf("AppendAcceptKey(x, %q) = %q, want %q", tt.key, got, "x"+tt.want)
			}
		})
	}
}

func TestAcceptKeyLongKey(t *testing.T) {
	// Keys longer than the scratch buffer take the heap path.
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'A'
	}
	if got, want := string(AppendAcceptKey(nil, long)), AcceptKey(string(long)); got != want {
		t.Errorf("AppendAcceptKey(300×A) = %q, AcceptKey = %q", got, want)
	}
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewKey()
		raw, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(raw) != 16 {
			t.Fatalf("NewKey() = %q: decodes to %d bytes, %v; want 16 bytes", k, len(raw), err)
		}
		if !validKey([]byte(k)) {
			t.Fatalf("validKey(NewKey() = %q) = false", k)
		}
		if seen[k] {
			t.Fatalf("NewKey() repeated %q", k)
		}
		seen[k] = true
	}
	if got := AppendNewKey([]byte("k=")); len(got) != 26 || string(got[:2]) != "k=" {
		t.Errorf("AppendNewKey(k=) = %q, want k= and 24 bytes", got)
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{name: "rfc", key: rfcKey, want: true},
		{name: "15 bytes", key: base64.StdEncoding.EncodeToString(make([]byte, 15)), want: false},
		{name: "17 bytes", key: base64.StdEncoding.EncodeToString(make([]byte, 17)), want: false},
		{name: "unpadded", key: "dGhlIHNhbXBsZSBub25jZQ", want: false},
		{name: "url alphabet", key: "dGhlIHNhbXBsZSBub25jZ_==", want: false},
		{name: "not base64", key: "!!!!!!!!!!!!!!!!!!!!!!==", want: false},
		{name: "newline inside", key: "dGhlIHNhbXBsZSBub25jZQ=\n", want: false},
		{name: "empty", key: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validKey([]byte(tt.key)); got != tt.want {
				t.Errorf("validKey(%s) = %v, want %v", hexs([]byte(tt.key)), got, tt.want)
			}
		})
	}
}
