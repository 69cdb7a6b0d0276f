package conformance

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wirelevel/ws/autobahn"
)

var update = flag.Bool("conformance.update", false, "TestPeers: write results/<peer>/index.json instead of comparing with it")

func TestMain(m *testing.M) {
	MaybeRunChild() // the test binary doubles as the Go peers' server process
	os.Exit(m.Run())
}

// skipNode skips a Node peer's test when node or ws is missing, or fails it
// under CI, where .ci/install-peers has installed them.
func skipNode(t *testing.T, p *Peer, err error) {
	t.Helper()
	if !errors.Is(err, ErrNoNode) {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v (CI=true: peers must be present)", p.Name, err)
	}
	t.Skipf("%s: %v", p.Name, err)
}

// TestSmoke runs 1.1.* against every peer, in -short too: the plumbing
// (child processes, Node scripts, both modes) must work and a peer that
// echoes text must pass them all.
func TestSmoke(t *testing.T) {
	for _, p := range Peers {
		t.Run(p.Name, func(t *testing.T) {
			r, err := RunPeer(context.Background(), p, Config{Cases: []string{"1.1.*"}, Timeout: time.Minute})
			skipNode(t, p, err)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Results.Cases) != 8 {
				t.Fatalf("%d results, want 8", len(r.Results.Cases))
			}
			for _, c := range r.Results.Cases {
				if c.Behavior != autobahn.VerdictOK || c.BehaviorClose != autobahn.VerdictOK {
					t.Errorf("%s: %s (%s) / %s (%s)", c.ID, c.Behavior, c.Result, c.BehaviorClose, c.ResultClose)
				}
			}
		})
	}
}

// TestPeers runs every case against the default peers, as
// cmd/peerconformance does, and compares the verdicts with the committed
// results/<peer>/index.json: a case whose verdicts differ, and differ again
// when it runs a second time, is an error (a change in the harness or in a
// peer; CONFORMANCE.md must then be updated). With -conformance.update it
// writes the index files instead. The four servers take a few minutes;
// node-ws-client, which negotiates compression in sections 12 and 13,
// took over an hour on two loaded cores:
//
//	cd bench && go test ./conformance -run TestPeers -v -timeout 3h
func TestPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("long: every case against every peer (see CONFORMANCE.md)")
	}
	if dl, ok := t.Deadline(); ok && time.Until(dl) < 2*time.Hour {
		t.Skip("may need over an hour: run with -timeout 3h")
	}
	var runs []*Run
	for _, p := range DefaultPeers() {
		t.Run(p.Name, func(t *testing.T) {
			r, err := RunPeer(context.Background(), p, Config{Rerun: true})
			skipNode(t, p, err)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, r)
			var md bytes.Buffer
			r.WriteMarkdown(&md, Versions(p))
			t.Logf("%s in %v\n%s", p.Name, r.Duration.Round(time.Second), md.String())
			path := filepath.Join("results", p.Name, "index.json")
			if *update {
				if err := r.WriteIndex("results"); err != nil {
					t.Fatal(err)
				}
				return
			}
			idx, err := ReadIndex(path)
			if err != nil {
				t.Fatalf("%v (run with -conformance.update to create it)", err)
			}
			want := idx[p.Name]
			got := autobahn.BuildIndex(r.Results)[p.Name]
			var ids []string
			for id := range want {
				ids = append(ids, id)
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					ids = append(ids, id)
				}
			}
			slices.SortFunc(ids, autobahn.CompareCaseIDs)
			for _, id := range ids {
				w, g := want[id], got[id]
				if w.Behavior == g.Behavior && w.BehaviorClose == g.BehaviorClose {
					continue
				}
				if again := r.Reruns[id]; again != nil && again.Behavior == w.Behavior && again.BehaviorClose == w.BehaviorClose {
					t.Logf("%s: %s / %s, then %s / %s as recorded (timing-dependent)", id, g.Behavior, g.BehaviorClose, again.Behavior, again.BehaviorClose)
					continue
				}
				if orderDependent(id) && !autobahn.IsFailure(g.Behavior, g.BehaviorClose) && !autobahn.IsFailure(w.Behavior, w.BehaviorClose) {
					t.Logf("%s: %s / %s, recorded %s / %s (OK or NON-STRICT by timing, CASES.md C.9d)", id, g.Behavior, g.BehaviorClose, w.Behavior, w.BehaviorClose)
					continue
				}
				t.Errorf("%s: %s / %s, recorded %s / %s", id, g.Behavior, g.BehaviorClose, w.Behavior, w.BehaviorClose)
			}
		})
	}
	if len(runs) > 0 {
		var md bytes.Buffer
		WriteOverview(&md, runs)
		t.Logf("overview\n%s", md.String())
	}
}

// orderDependent reports whether a case's OK and NON-STRICT outcomes
// depend on whether the testee handles a valid frame before a bad one that
// arrived in the same read (CASES.md, Part C, item 9d; DECISIONS.md, item
// 9d): 3.x, 4.x and 5.15.
func orderDependent(id string) bool {
	return autobahn.MatchPattern("3.*", id) || autobahn.MatchPattern("4.*", id) || id == "5.15"
}
