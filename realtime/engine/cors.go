package engine

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wirelevel/ws/handshake"
)

// CORSOptions configure the CORS headers of the server's responses, as the
// cors option of Node's engine.io (the npm cors package) does: preflight
// requests (OPTIONS) are answered with optionsSuccessStatus and the
// preflight headers, and every other response carries
// Access-Control-Allow-Origin, -Allow-Credentials and -Expose-Headers.
//
// The origins that CORS allows may also open WebSocket sessions, so that the
// two transports agree: a page that may poll may also upgrade.
type CORSOptions struct {
	// Origins lists the origins allowed, with the pattern syntax of
	// [handshake.Server.OriginPatterns] ("https://app.example.com",
	// "*.example.com", "localhost:*"). A request whose Origin matches gets
	// it back in Access-Control-Allow-Origin, with "Vary: Origin"; others
	// get no such header. Nil (or the single pattern "*") allows any origin
	// with "Access-Control-Allow-Origin: *", as Node's default origin "*";
	// browsers refuse that together with Credentials, so list the origins
	// then.
	Origins []string

	// AllowOrigin, if set, decides instead of Origins: the request's
	// origin is reflected when it returns true (Node's origin function or
	// origin: true).
	AllowOrigin func(origin string, r *http.Request) bool

	// Methods are the methods a preflight allows. Nil means GET, HEAD,
	// PUT, PATCH, POST and DELETE, as Node's cors.
	Methods []string

	// AllowedHeaders are the request headers a preflight allows. Nil
	// reflects the preflight's Access-Control-Request-Headers.
	AllowedHeaders []string

	// ExposedHeaders are the response headers the page may read.
	ExposedHeaders []string

	// Credentials sends "Access-Control-Allow-Credentials: true", so that
	// the page's requests may carry cookies (withCredentials).
	Credentials bool

	// MaxAge, if positive, lets browsers cache a preflight's answer for
	// that long (whole seconds).
	MaxAge time.Duration

	// OptionsSuccessStatus is the status of a preflight answer. 0 means
	// 204.
	OptionsSuccessStatus int
}

// corsPolicy is a CORSOptions ready to apply.
type corsPolicy struct {
	o       CORSOptions
	any     bool // Access-Control-Allow-Origin: *
	match   handshake.Server
	methods string
	allowed string
	exposed string
	status  int
}

func newCORSPolicy(o *CORSOptions) *corsPolicy {
	p := &corsPolicy{o: *o, status: o.OptionsSuccessStatus}
	p.any = o.AllowOrigin == nil && (len(o.Origins) == 0 || len(o.Origins) == 1 && o.Origins[0] == "*")
	p.match.OriginPatterns = o.Origins
	p.methods = "GET,HEAD,PUT,PATCH,POST,DELETE"
	if o.Methods != nil {
		p.methods = strings.Join(o.Methods, ",")
	}
	if o.AllowedHeaders != nil {
		p.allowed = strings.Join(o.AllowedHeaders, ",")
	}
	p.exposed = strings.Join(o.ExposedHeaders, ",")
	if p.status == 0 {
		p.status = http.StatusNoContent
	}
	return p
}

// allowed returns the Access-Control-Allow-Origin value for r, "" for
// none.
func (p *corsPolicy) origin(r *http.Request) string {
	if p.any {
		return "*"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return ""
	}
	if p.o.AllowOrigin != nil {
		if p.o.AllowOrigin(origin, r) {
			return origin
		}
		return ""
	}
	if p.match.OriginAllowed(origin, "") {
		return origin
	}
	return ""
}

// allowsWebSocket reports whether a cross-origin WebSocket handshake may
// go ahead because CORS allows its origin.
func (p *corsPolicy) allowsWebSocket(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return false
	}
	return p.origin(r) != ""
}

// setOrigin writes the origin and credentials headers shared by preflight
// and actual responses.
func (p *corsPolicy) setOrigin(h http.Header, r *http.Request) {
	if v := p.origin(r); v != "" {
		h.Set("Access-Control-Allow-Origin", v)
	}
	if !p.any {
		h.Add("Vary", "Origin")
	}
	if p.o.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// actualHeaders adds the headers of a response to an actual (not
// preflight) request.
func (p *corsPolicy) actualHeaders(h http.Header, r *http.Request) {
	p.setOrigin(h, r)
	if p.exposed != "" {
		h.Set("Access-Control-Expose-Headers", p.exposed)
	}
}

// handle adds the CORS headers for r to w and reports whether r was a
// preflight request, which it has then answered.
func (p *corsPolicy) handle(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	if r.Method != http.MethodOptions {
		p.actualHeaders(h, r)
		return false
	}
	p.setOrigin(h, r)
	h.Set("Access-Control-Allow-Methods", p.methods)
	if p.allowed != "" {
		h.Set("Access-Control-Allow-Headers", p.allowed)
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		if headerList(req) {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if p.o.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.FormatInt(int64(p.o.MaxAge/time.Second), 10))
	}
	if p.exposed != "" {
		h.Set("Access-Control-Expose-Headers", p.exposed)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(p.status)
	return true
}

// maxReflected bounds the Access-Control-Request-Headers a preflight
// answer echoes.
const maxReflected = 4096

// headerList reports whether s is a comma-separated list of header names
// short enough to echo: tokens (RFC 9110, Section 5.6.2), commas and
// spaces only.
func headerList(s string) bool {
	if len(s) > maxReflected {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~, ", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// CookieOptions configure the cookie set on every handshake response, whose
// value is the session id (Node's engine.io cookie option). Load balancers
// that keep a client's polling requests on one node route by it. The zero
// value gives the reference server's defaults: "io=<sid>; Path=/; HttpOnly;
// SameSite=Lax".
type CookieOptions struct {
	// Name is the cookie's name. "" means "io".
	Name string
	// Path is its path. "" means "/".
	Path string
	// Domain, MaxAge (seconds), Expires and Secure are written when set.
	Domain  string
	MaxAge  int
	Expires time.Time
	Secure  bool
	// NoHTTPOnly leaves HttpOnly out, so that page scripts can read the
	// cookie.
	NoHTTPOnly bool
	// SameSite is the SameSite attribute. 0 means Lax.
	SameSite http.SameSite
	// Partitioned marks the cookie Partitioned (CHIPS).
	Partitioned bool
}

func (o *CookieOptions) cookie(sid string) *http.Cookie {
	c := &http.Cookie{
		Name: o.Name, Value: sid, Path: o.Path, Domain: o.Domain,
		MaxAge: o.MaxAge, Expires: o.Expires, Secure: o.Secure,
		HttpOnly: !o.NoHTTPOnly, SameSite: o.SameSite, Partitioned: o.Partitioned,
	}
	if c.Name == "" {
		c.Name = "io"
	}
	if c.Path == "" {
		c.Path = "/"
	}
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	return c
}
