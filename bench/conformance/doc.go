// Package conformance runs the conformance harness of package
// github.com/wirelevel/ws/autobahn against third-party WebSocket
// implementations and reports what it finds; it asserts nothing about the
// peers themselves.
//
// In fuzzingclient mode the peers are echo servers: those of package libs
// for gorilla/websocket, coder/websocket and lxzan/gws (each in a child
// process, the test binary or command run again with
// -conformance.child=LIB), and a small script on Node's ws. In
// fuzzingserver mode the peer is Node's ws as an Autobahn-style testee
// client. Variants with permessage-deflate or UTF-8 checking turned on run
// only when named. Everything runs on 127.0.0.1; the Node peers come from
// the repository's .ci/peers/node_modules (installed by .ci/install-peers).
//
// cmd/peerconformance runs the peers and prints the tables of
// CONFORMANCE.md; TestPeers checks a new run against the committed
// results/<peer>/index.json; TestSmoke runs 1.1.* against every peer.
package conformance
