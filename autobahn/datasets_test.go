package autobahn

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// datasetGolden pins the generated datasets: a change to a generator
// changes what sections 12 and 13 send, and must be deliberate.
var datasetGolden = map[string]string{
	"json_data1":      "a7afb06b29fd4dd29cab0352e81499d829337d15736e3ad3db1df281eaeda45d",
	"lena512":         "9fc108cdf9bc23228a4d0a2a2065484dc3c83c8a924f2f4fa63f64fa1a057015",
	"gutenberg_faust": "58693682fece48a9f9e832b4520d972fbb77aa283a488a4f34713afa17e5b05c",
	"html_data1":      "b829494906121802af58349ad73b4e160290cbec4a71ac7afe76859235d98653",
	"ooms":            "60529b7898d9156117133a7c2d400537981cc607beaeb1081a36e596ace558fa",
}

func TestDatasets(t *testing.T) {
	for key, info := range Datasets() {
		t.Run(key, func(t *testing.T) {
			d, err := LoadDataset(key)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Data) != info.Size {
				t.Errorf("%d bytes, want %d", len(d.Data), info.Size)
			}
			if d.Binary != info.Binary {
				t.Errorf("Binary = %v, want %v", d.Binary, info.Binary)
			}
			again := generators[key](info.Size)
			if !bytes.Equal(again, d.Data) {
				t.Error("generating twice gives different bytes")
			}
			sum := sha256.Sum256(d.Data)
			if got := hex.EncodeToString(sum[:]); got != datasetGolden[key] {
				t.Errorf("sha256 = %s, want %s", got, datasetGolden[key])
			}
			if d2, _ := LoadDataset(key); d2 != d {
				t.Error("LoadDataset does not cache")
			}
		})
	}
	if _, err := LoadDataset("nope"); err == nil {
		t.Error("LoadDataset(nope) succeeded")
	}
}

func TestDatasetKinds(t *testing.T) {
	load := func(key string) []byte {
		d, err := LoadDataset(key)
		if err != nil {
			t.Fatal(err)
		}
		return d.Data
	}
	if b := load("json_data1"); !json.Valid(b) || bytes.IndexFunc(b, func(r rune) bool { return r >= 0x80 }) >= 0 {
		t.Error("json_data1 is not pure-ASCII JSON")
	}
	b := load("lena512")
	if string(b[:2]) != "BM" || binary.LittleEndian.Uint32(b[2:]) != uint32(len(b)) ||
		binary.LittleEndian.Uint32(b[18:]) != 512 || binary.LittleEndian.Uint32(b[22:]) != 512 ||
		binary.LittleEndian.Uint16(b[28:]) != 8 || binary.LittleEndian.Uint32(b[10:]) != 1078 {
		t.Error("lena512 is not a 512x512 8-bit BMP")
	}
	if b := load("gutenberg_faust"); !utf8.Valid(b) || !bytes.Contains(b, []byte("ü")) {
		t.Error("gutenberg_faust is not German-like UTF-8 text")
	}
	b = load("html_data1")
	n := 0
	for _, r := range string(b) {
		if r >= 0x80 {
			n++
		}
	}
	if !utf8.Valid(b) || n != htmlNonASCII || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.HasSuffix(b, []byte("</html>\n")) {
		t.Errorf("html_data1: valid %v, %d non-ASCII characters, want %d", utf8.Valid(b), n, htmlNonASCII)
	}
	if b := load("ooms"); !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) || !bytes.Contains(b, []byte("stream\n")) {
		t.Error("ooms is not PDF-like")
	}
}

// TestDatasetMessage checks message slicing: start at (k*L) mod N, wrap
// around, and count characters for a text dataset.
func TestDatasetMessage(t *testing.T) {
	d := &Dataset{Binary: true, Data: []byte("0123456789")}
	tests := []struct {
		k, l int
		want string
	}{
		{0, 4, "0123"}, {1, 4, "4567"}, {2, 4, "8901"}, {3, 4, "2345"}, {5, 2, "01"}, {0, 10, "0123456789"}, {1, 7, "7890123"},
	}
	for _, tt := range tests {
		if got := string(d.Message(tt.k, tt.l)); got != tt.want {
			t.Errorf("Message(%d, %d) = %q, want %q", tt.k, tt.l, got, tt.want)
		}
	}
	text := "aäbößc"
	td := &Dataset{Data: []byte(text)}
	for i := range text {
		td.runeStart = append(td.runeStart, int32(i))
	}
	td.runeStart = append(td.runeStart, int32(len(text)))
	if td.Len() != 6 {
		t.Fatalf("Len = %d, want 6 characters", td.Len())
	}
	for _, tt := range []struct {
		k, l int
		want string
	}{{0, 2, "aä"}, {1, 2, "bö"}, {2, 2, "ßc"}, {1, 4, "ßcaä"}} {
		if got := string(td.Message(tt.k, tt.l)); got != tt.want {
			t.Errorf("text Message(%d, %d) = %q, want %q", tt.k, tt.l, got, tt.want)
		}
	}
	h, err := LoadDataset("html_data1")
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for k := range 20 {
		m := h.Message(k, 131072)
		if n := utf8.RuneCount(m); n != 131072 || !utf8.Valid(m) {
			t.Fatalf("html message %d: %d characters, valid %v", k, n, utf8.Valid(m))
		}
		total += len(m) - 131072
	}
	if total == 0 {
		t.Error("no html message is longer in bytes than in characters")
	}
}
