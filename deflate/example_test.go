package deflate_test

import (
	"fmt"

	"github.com/wirelevel/ws/deflate"
)

func ExampleCompressor_AppendMessage() {
	c, err := deflate.NewCompressor(deflate.CompressorOptions{WindowBits: 10})
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", c.AppendMessage(nil, []byte("Hello")))
	// With context takeover the second "Hello" refers to the first.
	fmt.Printf("% x\n", c.AppendMessage(nil, []byte("Hello")))
	// Output:
	// f2 48 cd c9 c9 07 00
	// 02 13 00 00
}

func ExampleDecompressor_AppendMessage() {
	d, err := deflate.NewDecompressor(deflate.DecompressorOptions{Limit: 1 << 20})
	if err != nil {
		panic(err)
	}
	// RFC 7692, Section 7.2.3.2: two messages sharing the LZ77 window.
	for _, msg := range [][]byte{
		{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
		{0xf2, 0x00, 0x11, 0x00, 0x00},
	} {
		out, err := d.AppendMessage(nil, msg)
		fmt.Printf("%q %v\n", out, err)
	}
	// Output:
	// "Hello" <nil>
	// "Hello" <nil>
}
