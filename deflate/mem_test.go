package deflate

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// heapAfterGC returns the live heap once pools have been emptied (a pool
// drops its objects over two collections).
func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestIdleMemory measures the bytes 1000 idle compressors and decompressors
// hold after a message each, with and without context takeover. An idle
// one may hold its window and a little more, never the matcher's tables or
// a flate reader.
func TestIdleMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures the heap")
	}
	const n = 1000
	msg := jsonData(40<<10, 1)
	tests := []struct {
		name     string
		bits     int
		takeover bool
	}{
		{"bits15/takeover", 15, true},
		{"bits15/no takeover", 15, false},
		{"bits10/takeover", 10, true},
		{"bits10/no takeover", 10, false},
	}
	for _, tt := range tests {
		window := uint64(1) << tt.bits
		maxIdle := uint64(256) // the struct and slice headers
		if tt.takeover {
			maxIdle += window
		}
		t.Run("compressor/"+tt.name, func(t *testing.T) {
			before := heapAfterGC()
			cs := make([]*Compressor, n)
			var out []byte
			for i := range cs {
				cs[i] = mustCompressor(t, CompressorOptions{WindowBits: tt.bits, NoContextTakeover: !tt.takeover})
				out = cs[i].AppendMessage(out[:0], msg)
			}
			per := (heapAfterGC() - before) / n
			runtime.KeepAlive(cs)
			t.Logf("%d bytes per idle compressor (window %d)", per, window)
			if per > maxIdle {
				t.Errorf("%d bytes per idle compressor, want at most %d", per, maxIdle)
			}
		})
		t.Run("decompressor/"+tt.name, func(t *testing.T) {
			c := mustCompressor(t, CompressorOptions{WindowBits: tt.bits, NoContextTakeover: true})
			z := c.AppendMessage(nil, msg)
			before := heapAfterGC()
			ds := make([]*Decompressor, n)
			for i := range ds {
				ds[i] = mustDecompressor(t, DecompressorOptions{WindowBits: tt.bits, NoContextTakeover: !tt.takeover})
				ds[i].Start(bytes.NewReader(z))
				if _, err := io.Copy(io.Discard, ds[i]); err != nil {
					t.Fatal(err)
				}
			}
			per := (heapAfterGC() - before) / n
			runtime.KeepAlive(ds)
			t.Logf("%d bytes per idle decompressor (window %d)", per, window)
			if per > maxIdle {
				t.Errorf("%d bytes per idle decompressor, want at most %d", per, maxIdle)
			}
		})
	}
}

// TestIdleMemorySmall checks that a window grows with the data it keeps:
// after one 1 KiB message an idle compressor or decompressor with context
// takeover holds about 1 KiB of window, not the whole 32 KiB.
func TestIdleMemorySmall(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures the heap")
	}
	const n = 1000
	msg := jsonData(1<<10, 1)
	const maxIdle = 256 + 2<<10
	t.Run("compressor", func(t *testing.T) {
		before := heapAfterGC()
		cs := make([]*Compressor, n)
		var out []byte
		for i := range cs {
			cs[i] = mustCompressor(t, CompressorOptions{})
			out = cs[i].AppendMessage(out[:0], msg)
		}
		per := (heapAfterGC() - before) / n
		runtime.KeepAlive(cs)
		t.Logf("%d bytes per idle compressor after a 1 KiB message", per)
		if per > maxIdle {
			t.Errorf("%d bytes per idle compressor after a 1 KiB message, want at most %d", per, maxIdle)
		}
	})
	t.Run("decompressor", func(t *testing.T) {
		c := mustCompressor(t, CompressorOptions{NoContextTakeover: true})
		z := c.AppendMessage(nil, msg)
		before := heapAfterGC()
		ds := make([]*Decompressor, n)
		for i := range ds {
			ds[i] = mustDecompressor(t, DecompressorOptions{})
			ds[i].Start(bytes.NewReader(z))
			if _, err := io.Copy(io.Discard, ds[i]); err != nil {
				t.Fatal(err)
			}
		}
		per := (heapAfterGC() - before) / n
		runtime.KeepAlive(ds)
		t.Logf("%d bytes per idle decompressor after a 1 KiB message", per)
		if per > maxIdle {
			t.Errorf("%d bytes per idle decompressor after a 1 KiB message, want at most %d", per, maxIdle)
		}
	})
}

// TestCompressAllocs keeps the steady-state compressor at zero allocations
// per message.
func TestCompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, lvl := range []Level{LevelFast, LevelDefault} {
		for _, takeover := range []bool{true, false} {
			for _, size := range []int{128, 16 << 10, 200 << 10} {
				t.Run(fmt.Sprintf("level%d/takeover=%v/%d", lvl, takeover, size), func(t *testing.T) {
					c := mustCompressor(t, CompressorOptions{Level: lvl, NoContextTakeover: !takeover})
					msg := jsonData(size, 1)
					dst := c.AppendMessage(nil, msg)
					allocs := testing.AllocsPerRun(20, func() {
						dst = c.AppendMessage(dst[:0], msg)
					})
					if allocs != 0 {
						t.Errorf("AppendMessage: %v allocations per message, want 0", allocs)
					}
				})
			}
		}
	}
}

// TestDecompressAllocs keeps the steady-state decompressor at zero
// allocations per message, through AppendMessage and through Read.
func TestDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, size := range []int{128, 16 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			msg := jsonData(size, 1)
			c := mustCompressor(t, CompressorOptions{NoContextTakeover: true})
			z := c.AppendMessage(nil, msg)
			d := mustDecompressor(t, DecompressorOptions{})
			dst, _ := d.AppendMessage(nil, z)
			allocs := testing.AllocsPerRun(20, func() {
				dst, _ = d.AppendMessage(dst[:0], z)
			})
			if allocs != 0 {
				t.Errorf("AppendMessage: %v allocations per %d-byte message, want 0", allocs, size)
			}
			buf := make([]byte, 4096)
			br := bytes.NewReader(z)
			allocs = testing.AllocsPerRun(20, func() {
				br.Reset(z)
				d.Start(br)
				for {
					if _, err := d.Read(buf); err != nil {
						break
					}
				}
			})
			if allocs != 0 {
				t.Errorf("Read: %v allocations per %d-byte message, want 0", allocs, size)
			}
		})
	}
}
