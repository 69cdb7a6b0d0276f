package frame

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCloseCodeValid(t *testing.T) {
	for c := 0; c <= 0xFFFF; c++ {
		code := CloseCode(c)
		want := (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
		if code.Valid() != want {
			t.Fatalf("CloseCode(%d).Valid() = %v, want %v", c, code.Valid(), want)
		}
	}
	if s := CloseProtocolError.String(); s != "1002 protocol error" {
		t.Errorf("String() = %q", s)
	}
	if s := CloseCode(4000).String(); s != "4000" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseClose(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		code    CloseCode
		reason  string
		err     error
	}{
		{"empty", "", CloseNoStatus, "", nil},
		{"one byte", "03", 0, "", ErrCloseLength},
		{"1000", "03 e8", 1000, "", nil},
		{"1000 with reason", "03 e8 48 69", 1000, "Hi", nil},
		{"1003", "03 eb", 1003, "", nil},
		{"1004", "03 ec", 0, "", ErrCloseCode},
		{"1005", "03 ed", 0, "", ErrCloseCode},
		{"1006", "03 ee", 0, "", ErrCloseCode},
		{"1007", "03 ef", 1007, "", nil},
		{"1014", "03 f6", 1014, "", nil},
		{"1015", "03 f7", 0, "", ErrCloseCode},
		{"1016", "03 f8", 0, "", ErrCloseCode},
		{"0", "00 00", 0, "", ErrCloseCode},
		{"999", "03 e7", 0, "", ErrCloseCode},
		{"2999", "0b b7", 0, "", ErrCloseCode},
		{"3000", "0b b8", 3000, "", nil},
		{"4999", "13 87", 4999, "", nil},
		{"5000", "13 88", 0, "", ErrCloseCode},
		{"65535", "ff ff", 0, "", ErrCloseCode},
		{"invalid UTF-8 reason", "03 e8 ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64", 0, "", ErrCloseReason},
		{"truncated UTF-8 reason", "03 e8 ce", 0, "", ErrCloseReason},
		{"multi-byte reason", "03 e8 ce ba e1 bd b9 cf 83 ce bc ce b5", 1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClose(unhex(t, tt.payload))
			if code != tt.code || string(reason) != tt.reason || err != tt.err {
				t.Errorf("ParseClose(%s) = %d, %q, %v, want %d, %q, %v", tt.payload, code, reason, err, tt.code, tt.reason, tt.err)
			}
		})
	}
	// Reason length: 123 bytes fit, 124 make the payload 126 bytes.
	p := AppendClose(nil, CloseNormal, strings.Repeat("*", MaxCloseReason))
	if _, _, err := ParseClose(p); err != nil || len(p) != 125 {
		t.Errorf("ParseClose(123-byte reason) = %v (len %d)", err, len(p))
	}
	p = AppendClose(nil, CloseNormal, strings.Repeat("*", MaxCloseReason+1))
	if _, _, err := ParseClose(p); err != ErrControlTooLong {
		t.Errorf("ParseClose(124-byte reason) = %v, want %v", err, ErrControlTooLong)
	}
	var pe *ProtocolError
	if _, _, err := ParseClose(unhex(t, "03 e8 ff")); !errors.As(err, &pe) || pe.Code != CloseInvalidPayload {
		t.Errorf("ParseClose(bad reason) = %v, want close code 1007", err)
	}
}

func TestAppendClose(t *testing.T) {
	if got := AppendClose(nil, CloseNoStatus, "ignored"); len(got) != 0 {
		t.Errorf("AppendClose(1005) = %x, want empty", got)
	}
	got := AppendClose([]byte{9}, CloseGoingAway, "bye")
	if want := unhex(t, "09 03 e9 62 79 65"); !bytes.Equal(got, want) {
		t.Errorf("AppendClose(1001, bye) = %s, want %s", spaced(got), spaced(want))
	}
	code, reason, err := ParseClose(got[1:])
	if code != CloseGoingAway || string(reason) != "bye" || err != nil {
		t.Errorf("round trip = %d %q %v", code, reason, err)
	}
}
