package redisadapter

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wirelevel/ws/realtime"
	"github.com/wirelevel/ws/realtime/socketio"
)

// The cluster tests run Go nodes as processes of their own, so that they
// can be killed and paused: this test binary, started again with
// nodeEnv set to the Redis address (see TestMain).
const (
	nodeEnv        = "REDISADAPTER_TEST_NODE"
	nodeNameEnv    = "REDISADAPTER_TEST_NODE_NAME"
	nodeTimeoutEnv = "REDISADAPTER_TEST_NODE_TIMEOUT_MS"
	nodeModeEnv    = "REDISADAPTER_TEST_NODE_MODE"    // as redis-cluster-node.js's MODE
	nodeForwardEnv = "REDISADAPTER_TEST_NODE_FORWARD" // "1": forward the requests of other nodes' sessions
)

// modeOptions returns the options of a node of a mode, as
// redis-cluster-node.js names them: the streams mode has connection state
// recovery on.
func modeOptions(mode string) (Options, realtime.Options) {
	var o Options
	var ro realtime.Options
	switch {
	case strings.HasPrefix(mode, "sharded:"):
		o.Sharded = &ShardedOptions{SubscriptionMode: SubscriptionMode(strings.TrimPrefix(mode, "sharded:"))}
	case mode == "streams":
		o.Streams = &StreamsOptions{}
		ro.ConnectionStateRecovery = &realtime.RecoveryOptions{MaxDisconnectionDuration: time.Minute}
	}
	return o, ro
}

func TestMain(m *testing.M) {
	if addr := os.Getenv(nodeEnv); addr != "" {
		os.Exit(runNode(addr, os.Getenv(nodeNameEnv)))
	}
	os.Exit(m.Run())
}

// goValue turns a tagged value of the cluster tests into the Go value an
// application emits for it.
func goValue(raw json.RawMessage) (any, error) {
	var t struct {
		T      string
		V      any
		Hex    string
		Ms     int64
		Fields [][2]json.RawMessage
		Items  []json.RawMessage
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	switch t.T {
	case "json":
		return t.V, nil
	case "buf":
		return hex.DecodeString(t.Hex)
	case "date":
		return time.UnixMilli(t.Ms).UTC(), nil
	case "arr":
		out := []any{}
		for _, it := range t.Items {
			v, err := goValue(it)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "obj":
		var o socketio.Object
		for _, f := range t.Fields {
			var k string
			json.Unmarshal(f[0], &k)
			v, err := goValue(f[1])
			if err != nil {
				return nil, err
			}
			o = append(o, socketio.Member{Key: k, Value: v})
		}
		return o, nil
	}
	return nil, fmt.Errorf("unknown tag %q", t.T)
}

// nodeCmd is a command to a Go node process.
type nodeCmd struct {
	ID        int
	Cmd       string
	Op        string
	Op2       string
	Nsp       string
	To        []string
	Except    []string
	Local     bool
	Event     string
	Args      []json.RawMessage
	Rooms     []string
	Room      string
	Close     bool
	TimeoutMs int
	Tag       string
	SID       string
}

// socketJSON describes a socket as the cluster tests compare them.
type socketJSON struct {
	ID        string          `json:"id"`
	Rooms     []string        `json:"rooms"`
	Handshake json.RawMessage `json:"handshake"`
	Data      json.RawMessage `json:"data"`
}

func describeSocket(d *realtime.RemoteSocket) socketJSON {
	s := socketJSON{ID: d.ID, Rooms: slices.Sorted(slices.Values(d.Rooms)), Handshake: handshakeJSON(d.Handshake)}
	switch v := d.Data.(type) {
	case json.RawMessage:
		s.Data = v
	default:
		s.Data, _ = json.Marshal(v)
	}
	return s
}

// runNode is a Go node of the cluster tests, with the same application as
// the Node node of redis-cluster-node.js (rooms and data from the auth,
// the chat demo's events, the server-side event "sse"), driven through stdin and stdout with the
// same commands as its "server" ones.
func runNode(addr, name string) int {
	timeout, _ := strconv.Atoi(os.Getenv(nodeTimeoutEnv))
	var outMu sync.Mutex
	out := func(v any) {
		b, _ := json.Marshal(v)
		outMu.Lock()
		os.Stdout.Write(append(b, '\n'))
		outMu.Unlock()
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	o, ro := modeOptions(os.Getenv(nodeModeEnv))
	o.RequestsTimeout = time.Duration(timeout) * time.Millisecond
	o.OnError = func(err error) {
		out(map[string]any{"log": name + ": " + err.Error()})
	}
	cl := New(rdb, &o)
	ro.NewAdapter = cl.NewAdapter
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		out(map[string]any{"error": err.Error()})
		return 1
	}
	var fw *Forwarder
	if os.Getenv(nodeForwardEnv) == "1" {
		fw, err = NewForwarder(rdb, &ForwardOptions{Address: "http://" + ln.Addr().String(), OnError: func(err error) {
			out(map[string]any{"log": name + ": " + err.Error()})
		}})
		if err != nil {
			out(map[string]any{"error": err.Error()})
			return 1
		}
		ro.GenerateID = fw.GenerateID
	}
	srv := realtime.NewServer(&ro)
	for _, nsp := range []string{"/", "/chat"} {
		ns := srv.Of(nsp)
		ns.OnConnection(func(s *realtime.Socket) {
			var auth struct {
				Rooms string
				Data  any
			}
			json.Unmarshal(s.Auth(), &auth)
			for _, r := range strings.Split(auth.Rooms, ",") {
				if r != "" {
					s.Join(r)
				}
			}
			if auth.Data != nil {
				s.SetData(auth.Data)
			}
			// The events of the chat demo, for the load benchmark.
			s.On("join", func(e *realtime.Event) {
				s.Join(e.Args.String(0))
				e.Ack("joined", e.Args.String(0))
			})
			s.On("chat", func(e *realtime.Event) {
				room := e.Args.String(0)
				s.To(room).Emit("chat", room, e.Args.String(1), s.ID())
				if e.WantsAck() {
					e.Ack()
				}
			})
		})
		ns.OnServerSideEmit("sse", func(e *realtime.ServerSideEvent) {
			var args []json.RawMessage
			for i := range e.Args.Len() {
				args = append(args, e.Args.Raw(i))
			}
			out(map[string]any{"sse": args, "node": name})
			if e.WantsAck() {
				e.Ack(name + "-reply")
			}
		})
	}
	hs := &http.Server{Handler: srv}
	if fw != nil {
		hs.Handler = fw.Wrap(srv)
	}
	go hs.Serve(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = cl.Ready(ctx)
	cancel()
	if err != nil {
		out(map[string]any{"error": err.Error()})
		return 1
	}
	out(map[string]any{"ready": ln.Addr().(*net.TCPAddr).Port})

	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var c nodeCmd
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			out(map[string]any{"error": err.Error()})
			continue
		}
		go func() {
			if c.Op == "stats" {
				st := map[string]any{"sessions": srv.SessionCount()}
				if fw != nil {
					st["forwarded"], st["failed"] = fw.Stats().Forwarded, fw.Stats().Failed
				}
				out(map[string]any{"id": c.ID, "result": st})
				return
			}
			res, err := nodeOp(srv, cl, &c)
			if err == nil {
				// What the command published is on Redis before the
				// answer, so that what the test does next comes after.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err = cl.pub.flush(ctx)
				cancel()
			}
			if err != nil {
				out(map[string]any{"id": c.ID, "error": err.Error()})
				return
			}
			out(map[string]any{"id": c.ID, "result": res})
		}()
	}
	hs.Close()
	srv.Close()
	if fw != nil {
		fw.Close()
	}
	cl.Close()
	return 0
}

func nodeOp(srv *realtime.Server, cl *Cluster, c *nodeCmd) (any, error) {
	nsp := c.Nsp
	if nsp == "" {
		nsp = "/"
	}
	ns := srv.Of(nsp)
	sel := ns.To(c.To...).Except(c.Except...)
	ctx := context.Background()
	settle := func(acks []socketio.Args, err error) any {
		res := map[string]any{}
		var rs []json.RawMessage
		for _, a := range acks {
			if a.Len() > 0 {
				rs = append(rs, a.Raw(0))
			} else {
				rs = append(rs, json.RawMessage("null"))
			}
		}
		res["responses"] = rs
		if err != nil {
			res["error"] = err.Error()
		}
		return res
	}
	switch c.Op {
	case "emit":
		var args []any
		for _, a := range c.Args {
			v, err := goValue(a)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		if c.Local {
			sel = sel.Local()
		}
		return nil, sel.Emit(c.Event, args...)
	case "sync":
		srv.Emit("sync", c.Tag)
		srv.Of("/chat").Emit("sync", c.Tag)
		return nil, nil
	case "emitAck":
		return settle(sel.Timeout(time.Duration(max(c.TimeoutMs, 1))*time.Millisecond).EmitWithAck(ctx, "ack-me")), nil
	case "fetchSockets":
		if c.Local {
			sel = sel.Local()
		}
		start := time.Now()
		ss, err := sel.FetchSockets(ctx)
		res := map[string]any{"ms": time.Since(start).Milliseconds()}
		var sockets []socketJSON
		for _, s := range ss {
			sockets = append(sockets, describeSocket(s))
		}
		res["sockets"] = sockets
		if err != nil {
			res["error"] = err.Error()
		}
		return res, nil
	case "socketsJoin":
		sel.SocketsJoin(c.Rooms...)
		return nil, nil
	case "socketsLeave":
		sel.SocketsLeave(c.Rooms...)
		return nil, nil
	case "disconnectSockets":
		sel.DisconnectSockets(c.Close)
		return nil, nil
	case "joinThenEmit":
		sel.SocketsJoin(c.Room)
		return nil, ns.To(c.Room).Emit(c.Event, c.Room)
	case "serverSideEmit", "serverSideEmitWithAck":
		var args []any
		for _, a := range c.Args {
			v, err := goValue(a)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		if c.Op == "serverSideEmit" {
			return nil, ns.ServerSideEmit("sse", args...)
		}
		return settle(ns.ServerSideEmitWithAck(ctx, "sse", args...)), nil
	case "allRooms":
		rooms, err := ns.Adapter().(interface {
			AllRooms(context.Context) ([]string, error)
		}).AllRooms(ctx)
		return rooms, err
	case "serverCount":
		return ns.Adapter().ServerCount(ctx)
	case "remote", "remoteAck":
		ss, err := ns.In(c.SID).FetchSockets(ctx)
		if err != nil {
			return nil, err
		}
		if len(ss) != 1 {
			return nil, fmt.Errorf("%d sockets %s", len(ss), c.SID)
		}
		s := ss[0]
		if c.Op == "remoteAck" {
			a, err := s.Timeout(2*time.Second).EmitWithAck(ctx, "ack-me")
			return settle(a, err), nil
		}
		switch c.Op2 {
		case "emit":
			s.Emit(c.Event, "direct")
		case "join":
			s.Join(c.Room)
		case "leave":
			s.Leave(c.Room)
		case "disconnect":
			s.Disconnect(c.Close)
		}
		return describeSocket(s), nil
	}
	return nil, fmt.Errorf("unknown op %q", c.Op)
}

// proc drives a node process, Go or Node, through its JSON lines.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	in   io.WriteCloser
	port int

	stop func() // closes its stdin and waits for it to exit

	mu      sync.Mutex
	waiting map[int]chan map[string]json.RawMessage
	nextID  int
	sse     []string
	exited  chan struct{}
}

func startProc(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: cmd, waiting: map[int]chan map[string]json.RawMessage{}, exited: make(chan struct{})}
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killer := time.AfterFunc(5*time.Minute, func() { cmd.Process.Kill() })
	ready := make(chan error, 1)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Logf("%s: %s", name, sc.Bytes())
				continue
			}
			switch {
			case m["ready"] != nil:
				json.Unmarshal(m["ready"], &p.port)
				ready <- nil
			case m["error"] != nil && m["id"] == nil:
				ready <- fmt.Errorf("%s: %s", name, m["error"])
			case m["sse"] != nil:
				p.mu.Lock()
				p.sse = append(p.sse, string(m["sse"]))
				p.mu.Unlock()
			case m["id"] != nil:
				var id int
				json.Unmarshal(m["id"], &id)
				p.mu.Lock()
				ch := p.waiting[id]
				delete(p.waiting, id)
				p.mu.Unlock()
				if ch != nil {
					ch <- m
				}
			default:
				t.Logf("%s: %s", name, sc.Bytes())
			}
		}
		ready <- errors.New(name + " exited")
	}()
	p.stop = sync.OnceFunc(func() {
		p.in.Close()
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
		killer.Stop()
	})
	t.Cleanup(p.stop)
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("%s did not start: %v", name, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30 s", name)
	}
	return p
}

func (p *proc) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// call sends a command and returns its result.
func (p *proc) call(cmd map[string]any) json.RawMessage {
	p.t.Helper()
	res, err := p.try(cmd, 20*time.Second)
	if err != nil {
		p.t.Fatalf("%s %v: %v", p.name, cmd, err)
	}
	return res
}

func (p *proc) try(cmd map[string]any, timeout time.Duration) (json.RawMessage, error) {
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan map[string]json.RawMessage, 1)
	p.waiting[id] = ch
	p.mu.Unlock()
	c := map[string]any{"id": id}
	for k, v := range cmd {
		c[k] = v
	}
	b, _ := json.Marshal(c)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if m["error"] != nil {
			return nil, fmt.Errorf("%s", m["error"])
		}
		return m["result"], nil
	case <-p.exited:
		return nil, errors.New("exited")
	case <-time.After(timeout):
		return nil, fmt.Errorf("no answer within %v", timeout)
	}
}

// server sends a "server" command (the only kind a Go node has).
func (p *proc) server(op string, args map[string]any) json.RawMessage {
	p.t.Helper()
	cmd := map[string]any{"cmd": "server", "op": op}
	for k, v := range args {
		cmd[k] = v
	}
	return p.call(cmd)
}

func (p *proc) sseReceived() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.sse)
}
