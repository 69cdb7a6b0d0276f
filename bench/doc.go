// Package bench measures this library against its peers (gorilla/websocket,
// coder/websocket, gobwas/ws, lxzan/gws and golang.org/x/net/websocket) on
// the same workloads, in one run: echo throughput, the in-memory read path,
// round-trip latency, memory per idle connection, broadcast, and compressed
// echo and memory. It lives in a module of its own so that the library never
// depends on its peers.
//
// Every server runs in a child process (the bench binary run again with
// -wsbench.child=LIB), one per library and run, and is driven by the one
// load generator in package loadgen; only the read path runs in process.
// Libraries are interleaved run by run, and tables report medians. See
// README.md for the workloads, the fairness rules and the commands.
package bench
