package deflate

import "fmt"

// SetLevel changes the compression level of the messages that start after
// the call; the window, and with context takeover the history, are kept,
// so a decompressor notices nothing. It returns an error for a level
// outside 1 to 9 (zero means [LevelDefault]) and must not be called while
// a message is under way (between AppendChunk and AppendEnd).
func (c *Compressor) SetLevel(l Level) error {
	if l == 0 {
		l = LevelDefault
	}
	if l < LevelFast || l > LevelBest {
		return fmt.Errorf("deflate: level %d not in 1..9", l)
	}
	if c.s != nil {
		return fmt.Errorf("deflate: SetLevel while a message is under way")
	}
	c.cfg = &levels[l]
	return nil
}
