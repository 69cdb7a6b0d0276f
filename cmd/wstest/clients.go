package main

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/wirelevel/ws/conn"
	"github.com/wirelevel/ws/internal/echo"
)

// unreachable wraps a dial error that means the peer could not be
// reached at all (no TCP connection), for exit status 4.
func unreachable(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("%w: %v", errUnreachable, err)
	}
	return err
}

func dialOptions(cfg config) *conn.DialOptions {
	opts := echo.ClientOptions()
	opts.HTTP2 = cfg.http2
	if cfg.insecure {
		opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return opts
}

func echoClient(ctx context.Context, cfg config, stdout io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	checks := echo.DefaultChecks()
	proto, err := echo.RunClient(ctx, u.String(), dialOptions(cfg), checks)
	if err != nil {
		return unreachable(err)
	}
	fmt.Fprintf(stdout, "wstest: %d messages echoed intact by %s over %s\n", len(checks), u, proto)
	return nil
}

// broadcastClient is the suite's broadcastclient: it says hello every two
// seconds and prints what arrives, until interrupted.
func broadcastClient(ctx context.Context, cfg config, stdout io.Writer) error {
	u, err := parseWS(cfg.wsuri)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := conn.Dial(dctx, u.String(), dialOptions(cfg))
	cancel()
	if err != nil {
		return unreachable(err)
	}
	defer c.CloseNow()
	host, _ := os.Hostname()
	hello := fmt.Sprintf("hello from %s[%d]", host, os.Getpid())
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			if err := c.WriteMessage(ctx, conn.Text, []byte(hello)); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				c.Close(1001, "going away")
				return
			case <-t.C:
			}
		}
	}()
	for {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if conn.CloseStatus(err) != 0 {
				fmt.Fprintf(stdout, "wstest: the server closed the connection (%v)\n", err)
				return nil
			}
			return err
		}
		if typ == conn.Binary {
			fmt.Fprintf(stdout, "received: %s\n", hex.EncodeToString(msg))
		} else {
			fmt.Fprintf(stdout, "received: %s\n", msg)
		}
	}
}
