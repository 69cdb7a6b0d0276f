package websocket_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	websocket "github.com/wirelevel/ws/compat/gorilla"
)

// A gorilla/websocket echo server and client: the code is gorilla's, with
// only the import path changed.
func Example() {
	upgrader := websocket.Upgrader{} // same-origin requests only, as gorilla
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with the status the failure calls for
		}
		defer c.Close()
		for {
			mt, message, err := c.ReadMessage()
			if err != nil {
				if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure) {
					log.Println("read:", err)
				}
				return
			}
			if err := c.WriteMessage(mt, message); err != nil {
				return
			}
		}
	}))
	defer s.Close()

	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.URL, "http"), nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(resp.StatusCode)
	c.WriteMessage(websocket.TextMessage, []byte("hello"))
	mt, msg, err := c.ReadMessage()
	fmt.Println(mt == websocket.TextMessage, string(msg), err)
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	_, _, err = c.ReadMessage()
	fmt.Println(err)
	// Output:
	// 101
	// true hello <nil>
	// websocket: close 1000 (normal)
}
