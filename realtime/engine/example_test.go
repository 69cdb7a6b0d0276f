package engine_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wirelevel/ws/realtime/engine"
)

// An Engine.IO server on its own: an echo, here driven over HTTP
// long-polling by hand (engine.io-client does the same).
func Example() {
	srv := engine.NewServer(nil)
	defer srv.Close()
	srv.OnConnection(func(s *engine.Session) {
		s.OnMessage(func(m engine.Message) {
			s.SendText("echo: " + string(m.Data))
		})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	base := hs.URL + "/engine.io/?EIO=4&transport=polling"

	// The handshake: an open packet with the session id.
	resp, _ := http.Get(base)
	open, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sid := strings.Split(strings.Split(string(open), `"sid":"`)[1], `"`)[0]

	// Send a message packet ("4" + text), then poll for the answer.
	http.Post(base+"&sid="+sid, "text/plain", strings.NewReader("4hello"))
	resp, _ = http.Get(base + "&sid=" + sid)
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%s\n", answer)
	// Output: 4echo: hello
}

// CORS for pages on other origins, and the cookie sticky load balancers
// route polling requests by.
func ExampleCORSOptions() {
	srv := engine.NewServer(&engine.Options{
		CORS: &engine.CORSOptions{
			Origins:     []string{"https://app.example.com"},
			Credentials: true,
		},
		Cookie: &engine.CookieOptions{}, // io=<sid>; Path=/; HttpOnly; SameSite=Lax
	})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	req, _ := http.NewRequest("GET", hs.URL+"/engine.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println(resp.Header.Get("Access-Control-Allow-Origin"))
	fmt.Println(resp.Header.Get("Access-Control-Allow-Credentials"))
	fmt.Println(resp.Cookies()[0].Name)
	// Output:
	// https://app.example.com
	// true
	// io
}
