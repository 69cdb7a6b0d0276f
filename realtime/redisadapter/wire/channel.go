package wire

import (
	"strings"
)

// DefaultKey is the channel prefix Node nodes use unless configured (the
// adapter's and the emitter's key option).
const DefaultKey = "socket.io"

// Channels names the Redis channels of one namespace, as
// @socket.io/redis-adapter 8 and @socket.io/redis-emitter 5 name them.
// Every node of a cluster must use the same Key.
type Channels struct {
	Key       string // the prefix; "" means [DefaultKey]
	Namespace string // the namespace; "" means "/"
}

func (c Channels) key() string {
	if c.Key == "" {
		return DefaultKey
	}
	return c.Key
}

func (c Channels) nsp() string {
	if c.Namespace == "" {
		return "/"
	}
	return c.Namespace
}

// Broadcast returns the channel of broadcasts to every socket, or to more
// than one room: key#nsp#.
func (c Channels) Broadcast() string { return c.key() + "#" + c.nsp() + "#" }

// Room returns the channel of broadcasts to exactly one room (which may be
// a socket id): key#nsp#room#.
func (c Channels) Room(room string) string { return c.Broadcast() + room + "#" }

// For returns the channel a broadcast with these options goes to: the
// room's channel for exactly one room, and otherwise the broadcast
// channel.
func (c Channels) For(o *Opts) string {
	if len(o.Rooms) == 1 {
		return c.Room(o.Rooms[0])
	}
	return c.Broadcast()
}

// BroadcastPattern returns the PSUBSCRIBE pattern that matches the
// broadcast channel and every room channel: key#nsp#*, with the glob
// characters of key and nsp escaped (Node nodes leave them as they are,
// and then drop what does not start with the broadcast channel).
func (c Channels) BroadcastPattern() string {
	return globEscaper.Replace(c.Broadcast()) + "*"
}

var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)

// RoomOf returns the room of a channel that BroadcastPattern matched: ""
// for the broadcast channel. As Node nodes do, it cuts the broadcast
// channel from the front and one character (the '#') from the end. ok is
// false for a channel of another namespace.
func (c Channels) RoomOf(channel string) (room string, ok bool) {
	prefix := c.Broadcast()
	if !strings.HasPrefix(channel, prefix) {
		return "", false
	}
	if len(channel) <= len(prefix) {
		return "", true
	}
	return channel[len(prefix) : len(channel)-1], true
}

// Request returns the channel every request goes to, which every node
// subscribes to: key-request#nsp#. PUBSUB NUMSUB of it counts the nodes.
func (c Channels) Request() string { return c.key() + "-request#" + c.nsp() + "#" }

// Response returns the shared response channel: key-response#nsp#.
func (c Channels) Response() string { return c.key() + "-response#" + c.nsp() + "#" }

// NodeResponse returns the response channel of the node uid, to which a
// node configured with publishOnSpecificResponseChannel answers
// uid's requests (SERVER_SIDE_EMIT acknowledgements always go to the
// shared channel): key-response#nsp#uid#.
func (c Channels) NodeResponse(uid string) string { return c.Response() + uid + "#" }
