package loadgen

import (
	"fmt"
	"time"
)

// RoundTripper times round trips on one connection, one message in flight.
type RoundTripper struct {
	c      *Conn
	frame  []byte
	verify func(*Message) error
	s      *scanner
	m      Message
}

// NewRoundTripper returns a RoundTripper that sends frame on c; verify, if
// set, checks each echo.
func NewRoundTripper(c *Conn, frame []byte, verify func(*Message) error) *RoundTripper {
	return &RoundTripper{c: c, frame: frame, verify: verify, s: newScanner(c, 64<<10, verify != nil)}
}

// Do writes the frame, reads the echo and returns the time between.
func (rt *RoundTripper) Do() (time.Duration, error) {
	start := time.Now()
	if _, err := rt.c.nc.Write(rt.frame); err != nil {
		return 0, fmt.Errorf("loadgen: write: %w", err)
	}
	if err := rt.s.next(&rt.m); err != nil {
		return 0, fmt.Errorf("loadgen: read echo: %w", err)
	}
	d := time.Since(start)
	if rt.verify != nil {
		if err := rt.verify(&rt.m); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Exchange sends frame on c and reads one message back, checking it with
// verify if set.
func Exchange(c *Conn, frame []byte, verify func(*Message) error) error {
	rt := &RoundTripper{c: c, frame: frame, verify: verify, s: newScanner(c, 4096, verify != nil)}
	if _, err := rt.Do(); err != nil {
		return err
	}
	c.rest = rt.s.buf[rt.s.r:rt.s.w] // keep anything that came after
	return nil
}
