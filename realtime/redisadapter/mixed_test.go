package redisadapter

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/internal/testpeer"
	"github.com/wirelevel/ws/realtime/redisadapter/internal/redistest"
	"github.com/wirelevel/ws/realtime/redisadapter/wire"
)

// mixed is a cluster of two Go nodes and one Node node, each a process
// of its own, with official socket.io-client clients (in the Node node's
// process) on each, over WebSocket and over polling upgraded to
// WebSocket:
//
//	g1w (r1) and g1p (r1, r2) on G1, g2w (r2) and g2p (r3) on G2,
//	nw (r1, r3) and np (r2) on N; k1 on G1's /chat (r1).
type mixed struct {
	t      *testing.T
	rs     *redistest.Server
	rdb    *redis.Client
	g1, g2 *proc
	n      *proc
	ids    map[string]string // client name -> socket id
	mode   string            // the nodes' mode: classic, sharded:<subscription mode> or streams
}

// requestsTimeout is every node's, short so that the pause test is.
const requestsTimeout = 1000

var mainClients = []string{"g1w", "g1p", "g2w", "g2p", "nw", "np"}

func startGoProc(t testing.TB, rs *redistest.Server, name string, mode ...string) *proc {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeEnv+"="+rs.Addr, nodeNameEnv+"="+name, nodeTimeoutEnv+"="+fmt.Sprint(requestsTimeout))
	if len(mode) > 0 {
		cmd.Env = append(cmd.Env, nodeModeEnv+"="+mode[0])
	}
	return startProc(t, name, cmd)
}

// nodeJSCmd is the command of a Node node of the mode (see
// redis-cluster-node.js), its Redis port to be set in Args[2].
func nodeJSCmd(t *testing.T, mode string) *exec.Cmd {
	script := filepath.Join(testpeer.Root(), "realtime", "testdata", "node", "redis-cluster-node.js")
	pkgs := []string{"socket.io", "socket.io-client", "redis", "@socket.io/redis-adapter", "@socket.io/redis-emitter"}
	if mode == "streams" {
		pkgs = append(pkgs, "@socket.io/redis-streams-adapter")
	}
	return testpeer.NodeCmd(t, pkgs, script, "PORT", fmt.Sprint(requestsTimeout), mode)
}

func startMixed(t *testing.T, mode string) *mixed {
	t.Helper()
	nodeCmd := nodeJSCmd(t, mode)
	m := &mixed{t: t, rs: redistest.Start(t), ids: map[string]string{}, mode: mode}
	_, port, _ := strings.Cut(m.rs.Addr, ":")
	nodeCmd.Args[2] = port
	m.rdb = m.rs.Client(t)
	m.g1 = startGoProc(t, m.rs, "G1", mode)
	m.g2 = startGoProc(t, m.rs, "G2", mode)
	m.n = startProc(t, "N", nodeCmd)
	m.waitServers(3)
	for _, c := range []struct {
		name  string
		node  *proc
		nsp   string
		rooms string
		poll  bool
	}{
		{"g1w", m.g1, "/", "r1", false}, {"g1p", m.g1, "/", "r1,r2", true},
		{"g2w", m.g2, "/", "r2", false}, {"g2p", m.g2, "/", "r3", true},
		{"nw", m.n, "/", "r1,r3", false}, {"np", m.n, "/", "r2", true},
		{"k1", m.g1, "/chat", "r1", false},
	} {
		transports := []string{"websocket"}
		if c.poll {
			transports = []string{"polling", "websocket"}
		}
		var id string
		json.Unmarshal(m.n.call(map[string]any{"cmd": "connect", "name": c.name, "url": c.node.url(), "nsp": c.nsp, "rooms": c.rooms, "transports": transports}), &id)
		m.ids[c.name] = id
	}
	m.drain(m.n, "start")
	return m
}

// waitServers waits until Redis counts n nodes on "/", as the mode counts
// them.
func (m *mixed) waitServers(n int) {
	m.t.Helper()
	eventually(m.t, fmt.Sprintf("%d nodes subscribed", n), func() string {
		ctx := context.Background()
		ch := wire.Channels{}.Request()
		cmd := m.rdb.PubSubNumSub
		switch {
		case strings.HasPrefix(m.mode, "sharded:"):
			ch, cmd = wire.Channels{}.Broadcast(), m.rdb.PubSubShardNumSub
		case m.mode == "streams":
			ch = wire.Channels{}.Broadcast()
		}
		got, err := cmd(ctx, ch).Result()
		if err != nil || got[ch] != int64(n) {
			return fmt.Sprintf("NUMSUB of %s = %v, %v", ch, got, err)
		}
		return ""
	})
}

// drain has from send ["sync", tag] to everyone (after what it sent
// before, on its one publisher) and returns what each connected client
// received before it.
func (m *mixed) drain(from *proc, tag string, skip ...string) map[string][]string {
	m.t.Helper()
	if from == nil { // the official emitter
		m.n.call(map[string]any{"cmd": "emitter", "op": "emit", "event": "sync", "args": []any{jv(tag).js}})
		m.n.call(map[string]any{"cmd": "emitter", "op": "emit", "nsp": "/chat", "event": "sync", "args": []any{jv(tag).js}})
	} else {
		from.server("sync", map[string]any{"tag": tag})
	}
	return m.collect(tag, skip...)
}

// collect returns what each connected client (but skip) received before
// ["sync", tag], sent already.
func (m *mixed) collect(tag string, skip ...string) map[string][]string {
	m.t.Helper()
	var got map[string][]string
	json.Unmarshal(m.n.call(map[string]any{"cmd": "drain", "tag": tag, "skip": skip}), &got)
	return got
}

// expect checks that exactly the clients in want received something, and
// the same frames each; it returns those frames.
func (m *mixed) expect(what string, got map[string][]string, want ...string) []string {
	m.t.Helper()
	var frames []string
	for name, f := range got {
		if !slices.Contains(want, name) {
			if len(f) > 0 {
				m.t.Errorf("%s: %s received %q, want nothing", what, name, f)
			}
			continue
		}
		if len(f) == 0 {
			m.t.Errorf("%s: %s received nothing", what, name)
			continue
		}
		if frames == nil {
			frames = f
		} else if !slices.Equal(f, frames) {
			m.t.Errorf("%s: %s received %q, another %q", what, name, f, frames)
		}
	}
	for _, w := range want {
		if _, ok := got[w]; !ok {
			m.t.Errorf("%s: %s is not connected", what, w)
		}
	}
	return frames
}

func jsArgs(args []tagged) []any {
	out := []any{}
	for _, a := range args {
		out = append(out, a.js)
	}
	return out
}

// TestMixedCluster runs two Go nodes and a Node node with the official
// adapter, as processes, and checks in both directions everything the
// cluster does: broadcasts (all, rooms, except, a socket id, binary,
// dates), byte for byte the same on every client; a join followed at once
// by a broadcast to the room; the emitters; fetchSockets and what can be
// done to a remote socket; broadcast acknowledgements counting the
// clients of every node; server-side events with acknowledgements; then
// the faults: a paused node, Redis restarted, a node killed mid-stream.
func TestMixedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("the mixed cluster runs in the full test run")
	}
	m := startMixed(t, "classic")

	t.Run("broadcasts", m.sub(m.checkBroadcasts))

	t.Run("join then broadcast", m.sub(m.checkJoinThenBroadcast))

	t.Run("emitters", m.sub(m.checkEmitters))

	t.Run("fetchSockets", m.sub(m.checkFetchSockets))

	t.Run("remote sockets", m.sub(m.checkRemoteSockets))

	t.Run("broadcast acks", m.sub(m.checkBroadcastAcks))

	t.Run("server-side events", m.sub(m.checkServerSideEvents))

	t.Run("disconnectSockets", m.sub(m.checkDisconnectSockets))

	t.Run("paused node", m.sub(m.checkPausedNode))

	t.Run("redis restart", m.sub(m.checkRedisRestart))

	t.Run("killed node", m.sub(m.checkKilledNode))
}

// dynamic reports whether the nodes are sharded in a dynamic subscription
// mode.
func (m *mixed) dynamic() bool {
	return m.mode == "sharded:dynamic" || m.mode == "sharded:dynamic-private"
}

var offsetArg = regexp.MustCompile(`,"[0-9]+-[0-9]+"\]$`)

// noOffsets returns frames without the offsets recovery appends to
// events (a stream entry id as the last argument).
func (m *mixed) noOffsets(frames []string) []string {
	if m.mode != "streams" {
		return frames
	}
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = offsetArg.ReplaceAllString(f, "]")
	}
	return out
}

// compareOffsets orders stream entry ids, as offsetArg finds them.
func compareOffsets(a, b string) int {
	num := func(s string) (ms, seq int64) {
		s = strings.Trim(s, `,"]`)
		x, y, _ := strings.Cut(s, "-")
		ms, _ = strconv.ParseInt(x, 10, 64)
		seq, _ = strconv.ParseInt(y, 10, 64)
		return
	}
	am, as := num(a)
	bm, bs := num(b)
	return cmp.Or(cmp.Compare(am, bm), cmp.Compare(as, bs))
}

// sub returns a subtest that runs check with m reporting to it.
func (m *mixed) sub(check func(t *testing.T)) func(t *testing.T) {
	return func(t *testing.T) {
		m.t = t
		check(t)
	}
}

func (m *mixed) checkBroadcasts(t *testing.T) {
	g1, n := m.g1, m.n
	for _, tc := range []struct {
		name   string
		to     []string
		except []string
		args   []tagged
		want   []string
	}{
		{"all", nil, nil, []tagged{jv("s"), jv(1), jv(3.5), obj("z", jv(1), "a", obj("b", arr(jv(nil), jv(true))))}, mainClients},
		{"binary and dates", nil, nil, []tagged{buf(1, 2), obj("bin", buf(3), "list", arr(buf(), jv(5))), date(1796156264687)}, mainClients},
		{"one room", []string{"r1"}, nil, []tagged{jv("r1")}, []string{"g1w", "g1p", "nw"}},
		{"several rooms", []string{"r2", "r3"}, nil, []tagged{jv("r2r3")}, []string{"g1p", "g2w", "g2p", "nw", "np"}},
		{"except", []string{"r1", "r2"}, []string{"r3"}, []tagged{jv("x")}, []string{"g1w", "g1p", "g2w", "np"}},
		{"except only", nil, []string{"r2"}, []tagged{jv("y")}, []string{"g1w", "g2p", "nw"}},
		{"socket on G2", []string{m.ids["g2p"]}, nil, []tagged{jv("you")}, []string{"g2p"}},
		{"socket on N", []string{m.ids["np"]}, nil, []tagged{jv("you")}, []string{"np"}},
	} {
		var frames [2][]string
		for i, from := range []*proc{g1, n} {
			from.server("emit", map[string]any{"to": tc.to, "except": tc.except, "event": "ev", "args": jsArgs(tc.args)})
			frames[i] = m.expect(tc.name+" from "+from.name, m.drain(from, tc.name), tc.want...)
		}
		// The same value sent from Go and from Node reaches clients as
		// the same bytes (but for the offset, with recovery: each
		// broadcast's own stream entry id, the same on every client).
		if !slices.Equal(m.noOffsets(frames[0]), m.noOffsets(frames[1])) {
			t.Errorf("%s: clients received %q from G1, %q from N", tc.name, frames[0], frames[1])
		}
	}
	// A Date of a whole second: Node writes .000, and every client gets
	// that string from a Node node, whatever node it is on.
	n.server("emit", map[string]any{"event": "ev", "args": jsArgs([]tagged{date(0)})})
	if f := m.expect("date from N", m.drain(n, "date"), mainClients...); !slices.Equal(m.noOffsets(f), []string{`2["ev","1970-01-01T00:00:00.000Z"]`}) {
		t.Errorf("date(0) from N: %q", f)
	}
	g1.server("emit", map[string]any{"to": []string{"r1"}, "local": true, "event": "ev", "args": jsArgs([]tagged{jv(1)})})
	m.expect("local on G1", m.drain(g1, "local"), "g1w", "g1p")
	// Namespaces are apart.
	n.server("emit", map[string]any{"nsp": "/chat", "to": []string{"r1"}, "event": "ev", "args": jsArgs([]tagged{jv("chat")})})
	if f := m.expect("/chat from N", m.drain(n, "chat"), "k1"); !slices.Equal(m.noOffsets(f), []string{`2/chat,["ev","chat"]`}) {
		t.Errorf("/chat: %q", f)
	}
}

func (m *mixed) checkJoinThenBroadcast(t *testing.T) {
	g1, g2, n := m.g1, m.g2, m.n
	for i, from := range []*proc{g1, n, g2, n} {
		room := fmt.Sprintf("new%d", i)
		from.server("joinThenEmit", map[string]any{"to": []string{"r2"}, "room": room, "event": "joined"})
		want := []string{"g1p", "g2w", "np"}
		got := m.drain(from, room)
		switch {
		case from == n && m.mode == "classic":
			// A classic Node node joins its own sockets when its request
			// comes back from Redis, after its broadcast went to them: np
			// misses it, as in a cluster of Node nodes alone. Every
			// other node applies the join first.
			want = []string{"g1p", "g2w"}
		case from == n && m.dynamic():
			// A sharded Node node in a dynamic mode sends the broadcast
			// to the room's channel, which the other nodes subscribe to
			// only once the join has reached them: Go's sockets may miss
			// it, as a Node node's would. (A Go node sends a broadcast to
			// a room it just joined sockets to on the namespace's
			// channel.)
			t.Logf("%s from N in the %s mode: g1p received %q, g2w %q", room, m.mode, got["g1p"], got["g2w"])
			delete(got, "g1p")
			delete(got, "g2w")
			want = []string{"np"}
		}
		m.expect(room+" from "+from.name, got, want...)
		from.server("socketsLeave", map[string]any{"to": []string{room}, "rooms": []string{room}})
		from.server("emit", map[string]any{"to": []string{room}, "event": "ev", "args": jsArgs([]tagged{jv("left")})})
		got = m.drain(from, room+"-left")
		if from == n && m.mode == "classic" {
			// The same: np is out once N's leave came back, which may
			// be before or after this second command.
			delete(got, "np")
		}
		m.expect(room+" after leaving", got, nil...)
	}
}

func (m *mixed) checkEmitters(t *testing.T) {
	n := m.n
	n.call(map[string]any{"cmd": "emitter", "op": "emit", "to": []string{"r2"}, "event": "ev", "args": jsArgs([]tagged{jv("official"), buf(9)})})
	official := m.expect("official emitter", m.drain(nil, "emitter"), "g1p", "g2w", "np")
	ours := NewEmitter(m.rdb, nil)
	ctx := context.Background()
	ours.To("r2").Emit(ctx, "ev", "official", []byte{9})
	ours.Emit(ctx, "sync", "ours")
	ours.Of("/chat").Emit(ctx, "sync", "ours")
	if f := m.expect("our emitter", m.collect("ours"), "g1p", "g2w", "np"); !slices.Equal(f, official) {
		t.Errorf("our emitter: clients received %q, from the official one %q", f, official)
	}
	// socketsJoin from the official emitter (a request without uid).
	n.call(map[string]any{"cmd": "emitter", "op": "socketsJoin", "to": []string{"r3"}, "rooms": []string{"em"}})
	n.call(map[string]any{"cmd": "emitter", "op": "emit", "to": []string{"em"}, "event": "ev", "args": jsArgs([]tagged{jv("em")})})
	m.expect("official emitter join", m.drain(nil, "em"), "g2p", "nw")
	ours.In("em").SocketsLeave(ctx, "em")
	ours.To("em").Emit(ctx, "ev", "gone")
	m.expect("our emitter leave", m.drain(nil, "em2"), nil...)
}

func (m *mixed) checkFetchSockets(t *testing.T) {
	g1, g2, n := m.g1, m.g2, m.n
	fetch := func(from *proc, to ...string) []socketJSON {
		var res struct {
			Sockets []socketJSON
			Error   string
			Ms      int
		}
		json.Unmarshal(from.server("fetchSockets", map[string]any{"to": to}), &res)
		if res.Error != "" || res.Ms > 500 {
			t.Errorf("fetchSockets from %s: %s after %d ms", from.name, res.Error, res.Ms)
		}
		return res.Sockets
	}
	byName := func(ss []socketJSON) map[string]socketJSON {
		out := map[string]socketJSON{}
		for _, s := range ss {
			for name, id := range m.ids {
				if id == s.ID {
					out[name] = s
				}
			}
		}
		return out
	}
	fromG1, fromN := byName(fetch(g1)), byName(fetch(n))
	for _, name := range mainClients {
		a, b := fromG1[name], fromN[name]
		if a.ID == "" || b.ID == "" {
			t.Errorf("%s: from G1 %v, from N %v", name, a.ID != "", b.ID != "")
			continue
		}
		if !slices.Equal(a.Rooms, b.Rooms) || !slices.Contains(a.Rooms, a.ID) {
			t.Errorf("%s: rooms %q from G1, %q from N", name, a.Rooms, b.Rooms)
		}
		if string(a.Data) != fmt.Sprintf(`{"name":%q}`, name) || string(b.Data) != string(a.Data) {
			t.Errorf("%s: data %s from G1, %s from N", name, a.Data, b.Data)
		}
		// The handshake of every socket, Go or Node, reaches a Node
		// application with the keys and types socket.io gives it.
		var h map[string]any
		if err := json.Unmarshal(b.Handshake, &h); err != nil {
			t.Fatalf("%s: handshake %s", name, b.Handshake)
		}
		hdr, _ := h["headers"].(map[string]any)
		query, _ := h["query"].(map[string]any)
		auth, _ := h["auth"].(map[string]any)
		url, _ := h["url"].(string)
		tm, _ := h["time"].(string)
		_, issued := h["issued"].(float64)
		_, xd := h["xdomain"].(bool)
		_, sec := h["secure"].(bool)
		if hdr["host"] == nil || query["EIO"] != "4" || auth["rooms"] == nil || h["address"] != "127.0.0.1" ||
			!strings.HasPrefix(url, "/socket.io/?") || !strings.Contains(tm, "GMT") || !issued || !xd || !sec || len(h) != 9 {
			t.Errorf("%s: handshake from N %s", name, b.Handshake)
		}
	}
	if ss := fetch(g2, "r3"); len(ss) != 2 {
		t.Errorf("fetchSockets(r3) from G2 = %d sockets, want 2", len(ss))
	}
	if ss := fetch(n, "nobody"); len(ss) != 0 {
		t.Errorf("fetchSockets(nobody) from N = %d sockets", len(ss))
	}
}

func (m *mixed) checkRemoteSockets(t *testing.T) {
	g1, g2, n := m.g1, m.g2, m.n
	for _, tc := range []struct {
		from   *proc
		target string
	}{{n, "g2w"}, {g1, "nw"}, {g2, "g1w"}} {
		sid := m.ids[tc.target]
		tc.from.server("remote", map[string]any{"sid": sid, "op2": "emit", "event": "ev"})
		tc.from.server("remote", map[string]any{"sid": sid, "op2": "join", "room": "rj"})
		tc.from.server("emit", map[string]any{"to": []string{"rj"}, "event": "ev", "args": jsArgs([]tagged{jv("rj")})})
		tc.from.server("remote", map[string]any{"sid": sid, "op2": "leave", "room": "rj"})
		tc.from.server("emit", map[string]any{"to": []string{"rj"}, "event": "ev", "args": jsArgs([]tagged{jv("gone")})})
		f := m.noOffsets(m.expect("remote "+tc.target+" from "+tc.from.name, m.drain(tc.from, "remote"), tc.target))
		wantFrames := []string{`2["ev","direct"]`, `2["ev","rj"]`}
		if tc.from == n && m.dynamic() && slices.Equal(f, wantFrames[:1]) {
			// The room's channel was not subscribed yet on the target's
			// node, as in "join then broadcast".
			wantFrames = wantFrames[:1]
		}
		if !slices.Equal(f, wantFrames) {
			t.Errorf("remote %s from %s: %q, want %q", tc.target, tc.from.name, f, wantFrames)
		}
		var res struct {
			Responses json.RawMessage // Node gives the one response, Go a list of one
			Error     string
		}
		json.Unmarshal(tc.from.server("remoteAck", map[string]any{"sid": sid}), &res)
		want := fmt.Sprintf(`{"from":%q}`, tc.target)
		if got := string(res.Responses); res.Error != "" || got != want && got != "["+want+"]" {
			t.Errorf("remote %s emitWithAck from %s = %s, %q; want %s", tc.target, tc.from.name, got, res.Error, want)
		}
	}
}

func (m *mixed) checkBroadcastAcks(t *testing.T) {
	g1, n := m.g1, m.n
	for _, tc := range []struct {
		to   []string
		want []string
	}{
		{nil, mainClients},
		{[]string{"r3"}, []string{"g2p", "nw"}},
		{[]string{"r1"}, []string{"g1w", "g1p", "nw"}}, // none on G2
		{[]string{"nobody"}, nil},
	} {
		for _, from := range []*proc{g1, n} {
			var res struct {
				Responses []struct{ From string }
				Error     string
			}
			start := time.Now()
			json.Unmarshal(from.server("emitAck", map[string]any{"to": tc.to, "timeoutMs": 3000}), &res)
			var got []string
			for _, r := range res.Responses {
				got = append(got, r.From)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if res.Error != "" || !slices.Equal(got, want) {
				t.Errorf("emitWithAck to %q from %s = %q, %q; want %q", tc.to, from.name, got, res.Error, want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("emitWithAck to %q from %s took %v: a node's count did not come", tc.to, from.name, d)
			}
		}
	}
	// A client that does not answer: the others' answers and an error.
	n.call(map[string]any{"cmd": "silence", "name": "g2w"})
	for _, from := range []*proc{g1, n} {
		var res struct {
			Responses []json.RawMessage
			Error     string
		}
		json.Unmarshal(from.server("emitAck", map[string]any{"timeoutMs": 500}), &res)
		if res.Error == "" || len(res.Responses) != 5 {
			t.Errorf("emitWithAck with g2w silent from %s = %d responses, %q", from.name, len(res.Responses), res.Error)
		}
	}
}

func (m *mixed) checkServerSideEvents(t *testing.T) {
	g1, g2, n := m.g1, m.g2, m.n
	for _, tc := range []struct {
		from *proc
		want []string
	}{{g1, []string{`"G2-reply"`, `"N-reply"`}}, {n, []string{`"G1-reply"`, `"G2-reply"`}}, {g2, []string{`"G1-reply"`, `"N-reply"`}}} {
		var res struct {
			Responses []json.RawMessage
			Error     string
		}
		json.Unmarshal(tc.from.server("serverSideEmitWithAck", map[string]any{"args": jsArgs([]tagged{jv("ask"), jv(1)})}), &res)
		var got []string
		for _, r := range res.Responses {
			got = append(got, string(r))
		}
		slices.Sort(got)
		if res.Error != "" || !slices.Equal(got, tc.want) {
			t.Errorf("serverSideEmitWithAck from %s = %q, %q; want %q", tc.from.name, got, res.Error, tc.want)
		}
	}
	g2.server("serverSideEmit", map[string]any{"args": jsArgs([]tagged{jv("tell"), obj("b", jv(2), "a", jv(1))})})
	eventually(t, "the plain server-side event on G1 and N", func() string {
		for _, p := range []*proc{g1, n} {
			if !slices.Contains(p.sseReceived(), `["tell",{"b":2,"a":1}]`) {
				return fmt.Sprintf("%s got %q", p.name, p.sseReceived())
			}
		}
		return ""
	})
	if slices.Contains(g2.sseReceived(), `["tell",{"b":2,"a":1}]`) {
		t.Error("G2 received its own server-side event")
	}
	var rooms []string
	allRoomsFrom := []*proc{g1, n}
	if m.mode != "classic" {
		allRoomsFrom = allRoomsFrom[:1] // socket.io-adapter's ClusterAdapter lists a node's own rooms only
	}
	for _, from := range allRoomsFrom {
		json.Unmarshal(from.server("allRooms", nil), &rooms)
		for _, r := range []string{"r1", "r2", "r3", m.ids["g2p"], m.ids["np"]} {
			if !slices.Contains(rooms, r) {
				t.Errorf("allRooms from %s = %q, without %s", from.name, rooms, r)
			}
		}
	}
}

func (m *mixed) checkDisconnectSockets(t *testing.T) {
	g1, n := m.g1, m.n
	var id string
	json.Unmarshal(n.call(map[string]any{"cmd": "connect", "name": "victim", "url": g1.url(), "rooms": "v"}), &id)
	// The client is connected once it has the CONNECT reply, which G1
	// sends before its connection handler joins the room (as Node does):
	// the room is checked from N first, across the cluster.
	eventually(t, "victim in room v, seen from N", func() string {
		var res struct {
			Sockets []socketJSON
			Error   string
		}
		json.Unmarshal(n.server("fetchSockets", map[string]any{"to": []string{"v"}}), &res)
		if len(res.Sockets) != 1 || res.Sockets[0].ID != id {
			return fmt.Sprintf("fetchSockets(v) = %+v, %s; want %s", res.Sockets, res.Error, id)
		}
		return ""
	})
	n.server("disconnectSockets", map[string]any{"to": []string{"v"}})
	eventually(t, "victim disconnected", func() string {
		var cs map[string]struct {
			Connected   bool
			Disconnects int
		}
		json.Unmarshal(n.call(map[string]any{"cmd": "clients"}), &cs)
		if cs["victim"].Connected || cs["victim"].Disconnects != 1 || !cs["g1w"].Connected {
			return fmt.Sprintf("clients %+v", cs)
		}
		return ""
	})
}

func (m *mixed) checkPausedNode(t *testing.T) {
	g1, g2, n := m.g1, m.g2, m.n
	// SIGSTOP: Redis still counts G2, which answers nothing. Requests
	// wait their timeout: Node's fail, ours return what came with an
	// error; broadcasts still reach the others.
	if err := g2.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Sockets []socketJSON
		Error   string
		Ms      int
	}
	json.Unmarshal(n.server("fetchSockets", nil), &res)
	if !strings.Contains(res.Error, "timeout reached") || res.Ms < requestsTimeout-100 || res.Ms > 3*requestsTimeout {
		t.Errorf("fetchSockets from N with G2 paused: %q after %d ms, want Node's timeout after %d ms", res.Error, res.Ms, requestsTimeout)
	}
	res.Error = ""
	json.Unmarshal(g1.server("fetchSockets", nil), &res)
	if !strings.Contains(res.Error, "timeout reached") || len(res.Sockets) != 4 || res.Ms < requestsTimeout-100 || res.Ms > 3*requestsTimeout {
		t.Errorf("fetchSockets from G1 with G2 paused: %d sockets, %q after %d ms; want G1's and N's with a timeout", len(res.Sockets), res.Error, res.Ms)
	}
	g1.server("emit", map[string]any{"to": []string{"r3"}, "event": "ev", "args": jsArgs([]tagged{jv("paused")})})
	got := m.drain(g1, "paused", "g2w", "g2p")
	if !slices.Equal(got["nw"], []string{`2["ev","paused"]`}) {
		t.Errorf("nw received %q while G2 is paused", got["nw"])
	}
	if err := g2.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// G2 catches up: Redis kept what was published meanwhile.
	if got := m.collect("paused", "g1w", "g1p", "nw", "np", "k1"); !slices.Equal(got["g2p"], []string{`2["ev","paused"]`}) || len(got["g2w"]) != 0 {
		t.Errorf("G2's clients received %q after SIGCONT", got)
	}
	res.Error = ""
	json.Unmarshal(n.server("fetchSockets", nil), &res)
	if res.Error != "" || len(res.Sockets) != 6 {
		t.Errorf("fetchSockets from N after SIGCONT: %d sockets, %q", len(res.Sockets), res.Error)
	}
}

func (m *mixed) checkRedisRestart(t *testing.T) {
	g1, n := m.g1, m.n
	m.rs.Restart()
	m.waitServers(3) // the Go nodes subscribe again by themselves, as does node-redis
	for _, from := range []*proc{g1, n} {
		from.server("emit", map[string]any{"event": "ev", "args": jsArgs([]tagged{jv("back")})})
		m.expect("after the restart from "+from.name, m.drain(from, "back-"+from.name), mainClients...)
	}
}

func (m *mixed) checkKilledNode(t *testing.T) {
	g1, g2, n := m.g1, m.g2, m.n
	// N sends a number every 20 ms; G2 is killed after 10 of 40. The
	// clients of G1 and N miss none, and requests answer at once
	// without G2: Redis stops counting it when its connections close.
	for i := range 40 {
		if i == 10 {
			if err := g2.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
		n.server("emit", map[string]any{"event": "seq", "args": jsArgs([]tagged{jv(i)})})
		if i == 12 {
			var res struct {
				Sockets []socketJSON
				Error   string
				Ms      int
			}
			json.Unmarshal(n.server("fetchSockets", nil), &res)
			if res.Error != "" || res.Ms > 1000 {
				t.Errorf("fetchSockets from N just after the kill: %q after %d ms", res.Error, res.Ms)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := m.drain(n, "killed")
	var want []string
	for i := range 40 {
		want = append(want, fmt.Sprintf(`2["seq",%d]`, i))
	}
	for _, name := range []string{"g1w", "g1p", "nw", "np"} {
		if !slices.Equal(got[name], want) {
			t.Errorf("%s received %q, want 0 to 39", name, got[name])
		}
	}
	if _, ok := got["g2w"]; ok {
		t.Error("g2w is still connected")
	}
	var res struct {
		Responses []json.RawMessage
		Error     string
	}
	start := time.Now()
	json.Unmarshal(g1.server("emitAck", map[string]any{"timeoutMs": 3000}), &res)
	if res.Error != "" || len(res.Responses) != 4 || time.Since(start) > 2*time.Second {
		t.Errorf("emitWithAck from G1 after the kill = %d responses, %q after %v", len(res.Responses), res.Error, time.Since(start))
	}
	g1.server("emit", map[string]any{"event": "ev", "args": jsArgs([]tagged{jv("after")})})
	m.expect("G1 after the kill", m.drain(g1, "after"), "g1w", "g1p", "nw", "np")
}

// TestMixedSharded runs the mixed cluster in the sharded mode: two Go
// nodes and a Node node with the official createShardedAdapter (Redis 7
// SPUBLISH and SSUBSCRIBE), in the dynamic subscription mode (the
// default), then the checks of broadcasts and joins in the static mode.
func TestMixedSharded(t *testing.T) {
	if testing.Short() {
		t.Skip("the mixed cluster runs in the full test run")
	}
	for _, mode := range []string{"sharded:dynamic", "sharded:static"} {
		t.Run(mode, func(t *testing.T) {
			m := startMixed(t, mode)
			t.Run("broadcasts", m.sub(m.checkBroadcasts))
			t.Run("join then broadcast", m.sub(m.checkJoinThenBroadcast))
			if mode != "sharded:dynamic" {
				return
			}
			t.Run("fetchSockets", m.sub(m.checkFetchSockets))
			t.Run("remote sockets", m.sub(m.checkRemoteSockets))
			t.Run("broadcast acks", m.sub(m.checkBroadcastAcks))
			t.Run("server-side events", m.sub(m.checkServerSideEvents))
			t.Run("disconnectSockets", m.sub(m.checkDisconnectSockets))
		})
	}
}

// TestMixedStreams runs the mixed cluster with the official
// @socket.io/redis-streams-adapter on the Node node, connection state
// recovery on everywhere: every check of the classic cluster but the
// emitters and the faults, then recovery across nodes, Go and Node.
func TestMixedStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("the mixed cluster runs in the full test run")
	}
	m := startMixed(t, "streams")
	t.Run("broadcasts", m.sub(m.checkBroadcasts))
	t.Run("join then broadcast", m.sub(m.checkJoinThenBroadcast))
	t.Run("fetchSockets", m.sub(m.checkFetchSockets))
	t.Run("remote sockets", m.sub(m.checkRemoteSockets))
	t.Run("broadcast acks", m.sub(m.checkBroadcastAcks))
	t.Run("server-side events", m.sub(m.checkServerSideEvents))
	t.Run("disconnectSockets", m.sub(m.checkDisconnectSockets))
	t.Run("recovery", m.sub(m.checkRecovery))
}

// checkRecovery has an official client, through a proxy, lose its
// connection on one node and reconnect to another, in turn G1 to N, N to
// G2 and G2 to G1: each time it recovers its socket id (and with it its
// rooms and data) and receives the events broadcast to it meanwhile from
// every node, in order, with their stream entry ids as offsets, the same
// bytes whichever node restored them.
func (m *mixed) checkRecovery(t *testing.T) {
	g1, g2, n := m.g1, m.g2, m.n
	px := newSwitchProxy(t, strings.TrimPrefix(g1.url(), "http://"))
	var id string
	json.Unmarshal(n.call(map[string]any{"cmd": "connect", "name": "rc", "url": px.url(), "rooms": "rr", "reconnect": true}), &id)
	clients := func() map[string]struct {
		ID          string
		Connected   bool
		Disconnects int
		Recovered   bool
	} {
		var cs map[string]struct {
			ID          string
			Connected   bool
			Disconnects int
			Recovered   bool
		}
		json.Unmarshal(n.call(map[string]any{"cmd": "clients"}), &cs)
		return cs
	}
	g1.server("emit", map[string]any{"to": []string{"rr"}, "event": "ev", "args": jsArgs([]tagged{jv("first")})})
	if f := m.drain(g1, "rec0")["rc"]; len(f) != 2 || !offsetArg.MatchString(f[1]) {
		t.Fatalf("rc received %q, want its CONNECT and an event with an offset", f)
	}
	for i, hop := range []struct{ from, to *proc }{{g1, n}, {n, g2}, {g2, g1}} {
		px.cut()
		eventually(t, "rc disconnected", func() string {
			if cs := clients(); cs["rc"].Connected || cs["rc"].Disconnects != i+1 {
				return fmt.Sprintf("rc %+v", cs["rc"])
			}
			// The session is kept once the node saw the socket go.
			var res struct{ Sockets []socketJSON }
			json.Unmarshal(hop.from.server("fetchSockets", map[string]any{"to": []string{id}, "local": true}), &res)
			if len(res.Sockets) != 0 {
				return "still on " + hop.from.name
			}
			return ""
		})
		// Missed: from every node, to its room, to all, to its id, and
		// a binary; not for it: another room, and all but its room.
		g1.server("emit", map[string]any{"to": []string{"rr"}, "event": "ev", "args": jsArgs([]tagged{jv("m1")})})
		n.server("emit", map[string]any{"event": "ev", "args": jsArgs([]tagged{jv("m2"), buf(1, 2)})})
		g2.server("emit", map[string]any{"to": []string{id}, "event": "ev", "args": jsArgs([]tagged{jv("m3"), date(0)})})
		n.server("emit", map[string]any{"to": []string{"elsewhere"}, "event": "ev", "args": jsArgs([]tagged{jv("no")})})
		g1.server("emit", map[string]any{"except": []string{"rr"}, "event": "ev", "args": jsArgs([]tagged{jv("no")})})
		px.switchTo(hop.to.url())
		eventually(t, "rc recovered on "+hop.to.name, func() string {
			if cs := clients(); !cs["rc"].Connected || !cs["rc"].Recovered || cs["rc"].ID != id {
				return fmt.Sprintf("rc %+v, id was %s", cs["rc"], id)
			}
			return ""
		})
		var f []string
		for _, x := range m.drain(hop.to, fmt.Sprintf("rec%d", i+1))["rc"] {
			if !strings.HasPrefix(x, "0") { // its CONNECT
				f = append(f, x)
			}
		}
		for _, x := range f {
			if !strings.HasPrefix(x, "bin:") && !offsetArg.MatchString(x) {
				t.Errorf("restored by %s: %q has no offset", hop.to.name, x)
			}
		}
		// The nodes' events are in the stream's order, which is not the
		// order of the commands: N's emit returns before its XADD.
		var events, offsets []string
		for _, x := range f {
			if strings.HasPrefix(x, "bin:") && len(events) > 0 {
				events[len(events)-1] += " " + x
				continue
			}
			events = append(events, offsetArg.ReplaceAllString(x, "]"))
			offsets = append(offsets, offsetArg.FindString(x))
		}
		want := []string{`2["ev","m1"]`, `51-["ev","m2",{"_placeholder":true,"num":0}] bin:0102`, `2["ev","m3","1970-01-01T00:00:00.000Z"]`}
		if !slices.Equal(slices.Sorted(slices.Values(events)), slices.Sorted(slices.Values(want))) || !slices.IsSortedFunc(offsets, compareOffsets) {
			t.Errorf("restored by %s: %q, want %q in the order of their offsets", hop.to.name, f, want)
		}
		// Its room came back.
		hop.from.server("emit", map[string]any{"to": []string{"rr"}, "event": "ev", "args": jsArgs([]tagged{jv("back")})})
		if f := m.noOffsets(m.drain(hop.from, fmt.Sprintf("rec%d-back", i+1))["rc"]); !slices.Equal(f, []string{`2["ev","back"]`}) {
			t.Errorf("after recovery on %s, rc received %q", hop.to.name, f)
		}
	}
	// The data too (Node restored it last but one, Go last).
	var res struct{ Sockets []socketJSON }
	json.Unmarshal(n.server("fetchSockets", map[string]any{"to": []string{id}}), &res)
	if len(res.Sockets) != 1 || string(res.Sockets[0].Data) != `{"name":"rc"}` || !slices.Contains(res.Sockets[0].Rooms, "rr") {
		t.Errorf("fetchSockets(rc) from N = %+v", res.Sockets)
	}
	if keys, _ := m.rdb.Keys(context.Background(), DefaultSessionKeyPrefix+"*").Result(); len(keys) != 0 {
		t.Errorf("sessions left in Redis: %q", keys)
	}
}
