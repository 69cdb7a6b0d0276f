package fuzz

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wirelevel/ws/frame"
)

// TestWriteSeedCorpora writes the seed inputs of the conn and frame targets
// as committed corpus files under testdata/fuzz/<Target>/, so that plain
// `go test` runs them and a campaign starts from them. It runs only with
// WRITE_SEEDS=1:
//
//	WRITE_SEEDS=1 go test -run TestWriteSeedCorpora ./fuzz
func TestWriteSeedCorpora(t *testing.T) {
	if os.Getenv("WRITE_SEEDS") != "1" {
		t.Skip("set WRITE_SEEDS=1 to rewrite the seed corpora")
	}
	write := func(target string, lines ...string) {
		body := "go test fuzz v1\n"
		for _, l := range lines {
			body += l + "\n"
		}
		sum := sha256.Sum256([]byte(body))
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "seed-"+hex.EncodeToString(sum[:8]))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bytesArg := func(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }
	for _, s := range connSeeds(true) {
		write("FuzzServerConn", bytesArg(s))
		write("FuzzServerConnDeflate", bytesArg(s))
	}
	for _, s := range connSeeds(false) {
		write("FuzzClientConn", bytesArg(s))
	}
	for _, s := range connSeeds(true) {
		write("FuzzParseHeader", bytesArg(s[:min(len(s), frame.MaxHeaderSize)]))
	}
	for _, s := range []string{"Hello-µ@ßöäüàá-UTF-8!!", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", "\xf4\x90\x80\x80", "\xef\xbf\xbf", "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x90\x80", "\xed\x9f\xbf"} {
		write("FuzzUTF8", bytesArg([]byte(s)))
	}
	write("FuzzMask", bytesArg([]byte("Hello")), "uint32(939139389)", "uint8(0)", "uint16(2)")
	write("FuzzMask", bytesArg(make([]byte, 300)), "uint32(3735928559)", "uint8(3)", "uint16(77)")
	for _, s := range []string{"", "\x03", "\x03\xe8", "\x03\xe8bye", "\x03\xed", "\x13\x88", "\x03\xe8\xce\xba\xed\xa0\x80"} {
		write("FuzzParseClose", bytesArg([]byte(s)))
	}
	fmt.Println("seed corpora written")
}
