package client

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		attempt  int
		min, max time.Duration
	}{
		{"first, no jitter", Options{ReconnectDelay: 100 * time.Millisecond, Jitter: -1}, 1, 100 * time.Millisecond, 100 * time.Millisecond},
		{"third doubles twice", Options{ReconnectDelay: 100 * time.Millisecond, Jitter: -1}, 3, 400 * time.Millisecond, 400 * time.Millisecond},
		{"capped", Options{ReconnectDelay: 100 * time.Millisecond, ReconnectDelayMax: time.Second, Jitter: -1}, 10, time.Second, time.Second},
		{"huge attempt stays capped", Options{ReconnectDelay: time.Second, ReconnectDelayMax: 5 * time.Second, Jitter: -1}, 1 << 20, 5 * time.Second, 5 * time.Second},
		{"jitter spreads", Options{ReconnectDelay: 200 * time.Millisecond, Jitter: 0.5}, 1, 100 * time.Millisecond, 300 * time.Millisecond},
		{"jitter never passes the cap", Options{ReconnectDelay: time.Second, ReconnectDelayMax: 2 * time.Second, Jitter: 0.5}, 5, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.NoReconnect = true
			c := &Client{opts: opts}
			fillDefaults(&c.opts)
			for range 200 {
				if d := c.backoff(tt.attempt); d < tt.min || d > tt.max {
					t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tt.attempt, d, tt.min, tt.max)
				}
			}
		})
	}
}
