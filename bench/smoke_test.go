package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wirelevel/ws/bench/libs"
	"github.com/wirelevel/ws/bench/loadgen"
	"github.com/wirelevel/ws/frame"
)

// TestSmoke runs every workload for every library, ours-raw included, at a
// tiny scale with every echo checked, and then renders the tables. It
// asserts correctness only, never timing.
func TestSmoke(t *testing.T) {
	sc := smokeScale()
	for _, w := range workloads() {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			cols := w.columns(libs.All, true)
			res := runWorkload(context.Background(), w, sc, cols, t.Logf)
			for _, n := range res.notes {
				t.Errorf("%s: %s", w.name, n)
			}
			for _, cs := range res.cases {
				for _, col := range cols {
					runs := res.runs[cs.label+"\x00"+col.String()]
					if len(runs) != sc.Reps {
						continue // reported above
					}
					for k, v := range runs[0] {
						if v < 0 || v != v {
							t.Errorf("%s %s %s: %s = %v", w.name, cs.label, col, k, v)
						}
					}
				}
			}
			var out bytes.Buffer
			res.write(&out)
			if !strings.Contains(out.String(), "| case | ours") {
				t.Errorf("%s: table has no ours column:\n%s", w.name, out.String())
			}
			if strings.Contains(out.String(), "error") {
				t.Errorf("%s: table shows an error:\n%s", w.name, out.String())
			}
		})
	}
}

// TestRunFlags checks that Run rejects unknown names.
func TestRunFlags(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"workload", Config{Workloads: []string{"nope"}}, `no workload "nope"`},
		{"lib", Config{Libs: []string{"nope"}}, `no library "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Out = new(bytes.Buffer)
			err := Run(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
}

// TestUTF8Default checks the Libraries table's claim about each library's
// default: a server that validates UTF-8 must refuse invalid text instead of
// echoing it.
func TestUTF8Default(t *testing.T) {
	for _, lib := range libs.All {
		t.Run(lib.Name, func(t *testing.T) {
			srv, err := startServer(lib, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.close()
			c, err := loadgen.Dial(context.Background(), srv.addr, "/echo", "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
			bad := []byte("valid, then \xff")
			err = loadgen.Exchange(c, loadgen.ClientFrame(frame.OpText, bad, false), loadgen.Expect(frame.OpText, bad))
			if echoed := err == nil; echoed == lib.UTF8 {
				t.Errorf("%s echoed invalid UTF-8: %v (error %v), but its UTF8 field says it validates: %v", lib.Name, echoed, err, lib.UTF8)
			}
		})
	}
}
