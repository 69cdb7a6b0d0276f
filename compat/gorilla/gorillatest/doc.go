// Package gorillatest proves the gorilla/websocket drop-in
// (github.com/wirelevel/ws/compat/gorilla) against gorilla itself. It is a
// module of its own so that the root module never depends on gorilla: its
// tests take gorilla's examples (echo, chat, command, filewatch) from the
// Go module cache at test time, build each twice, as published and with
// only the import path changed, drive both the same way with gorilla's own
// client, and require the same transcripts; they also compare the exported
// API of both packages. Nothing of gorilla's is copied into this
// repository.
//
//	cd compat/gorilla/gorillatest && go test ./...
package gorillatest
