// Package autobahn is a conformance harness for WebSocket endpoints that runs
// the 517 cases of the Autobahn|Testsuite (fuzzingclient and fuzzingserver
// modes) as the suite runs them, takes its spec files (case patterns,
// options) unchanged, and writes reports in the suite's layout and formats;
// and that adds sections of its own, numbered after 13 and run only on
// request: the opening handshake for servers (14) and clients (15), limits
// and resilience (16), and WebSockets over HTTP/2 (17).
//
// Package autobahn does not run the Python suite and ships none of its code,
// prose or data files: the cases come from the embedded catalogue cases.json
// (CASES.md, its prose companion, explains them), and the section 12 and 13
// payloads are generated at run time from a fixed seed. SECTIONS.md gives
// the rules of sections 14 to 17.
//
// # Model
//
// The harness is the fuzzer; the endpoint under test is the testee, which
// must echo every message and answer pings (see [Case]). Every case runs on
// its own TCP connection (or HTTP/2 stream, see below): the fuzzer completes
// the opening handshake, plays the case's steps, records the messages and
// pongs it receives, and computes two verdicts when the connection is gone:
// the headline verdict ([CaseResult.Behavior]) and the close verdict
// ([CaseResult.BehaviorClose]).
// DECISIONS.md, next to this file, records how the ambiguities of the
// catalogue are resolved.
//
// # Modes
//
// [RunFuzzingClient] connects to testee servers. [FuzzingServer] accepts
// testee clients that drive the run through /getCaseCount, /runCase and
// /updateReports, as the suite's own testee clients do; [RunTesteeClient] is
// such a driver, for plugging a client library into a [FuzzingServer].
// [WriteReports] writes index.json, index.html and one JSON and one HTML file
// per case.
//
// # Transports
//
// Both modes speak HTTP/1.1 over TCP (ws://) or TLS (wss://, see
// [Options.TLSClientConfig] and [Options.TLSServerConfig]). With
// [Options.HTTP2], or "http2": true in a spec, WebSockets also run over
// HTTP/2 (RFC 8441): the client-mode fuzzer opens each case as an extended
// CONNECT stream on an HTTP/2 connection of its own, and a [FuzzingServer]
// also accepts testee clients over HTTP/2 (the process needs
// GODEBUG=http2xconnect=1; see [ErrNoExtendedConnect]). A case's stream then
// stands for its TCP connection in every rule: the testee ending its side
// is the testee dropping TCP. DECISIONS.md, items 29-33, has the details.
//
// # Concurrency
//
// Cases run one after another. A [FuzzingServer] serialises runCase
// connections; its other endpoints may be used concurrently. [Results] is
// not safe for concurrent use while a run is adding to it.
package autobahn
