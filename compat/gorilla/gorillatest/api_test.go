package gorillatest

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	compat "github.com/wirelevel/ws/compat/gorilla"
)

// exported lists the exported API of the package in dir: one line per
// constant, variable, function, method, type and struct field, with its
// signature, as go/printer writes it ("interface{}" and "any" alike).
func exported(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	str := func(n any) string {
		var b bytes.Buffer
		printer.Fprint(&b, fset, n)
		return strings.ReplaceAll(b.String(), "interface{}", "any")
	}
	api := map[string]bool{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if !d.Name.IsExported() {
						continue
					}
					recv := ""
					if d.Recv != nil {
						typ := str(d.Recv.List[0].Type)
						if !ast.IsExported(strings.TrimPrefix(typ, "*")) {
							continue
						}
						recv = "(" + typ + ") "
					}
					// Parameter names are not API.
					ft := *d.Type
					ft.Params = unnamed(ft.Params)
					ft.Results = unnamed(ft.Results)
					api["func "+recv+d.Name.Name+strings.TrimPrefix(str(&ft), "func")] = true
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch s := spec.(type) {
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() {
									api[d.Tok.String()+" "+n.Name] = true
								}
							}
						case *ast.TypeSpec:
							if !s.Name.IsExported() {
								continue
							}
							switch tt := s.Type.(type) {
							case *ast.StructType:
								api["type "+s.Name.Name+" struct"] = true
								for _, fld := range tt.Fields.List {
									for _, n := range fld.Names {
										if n.IsExported() {
											api["field "+s.Name.Name+"."+n.Name+" "+str(fld.Type)] = true
										}
									}
								}
							case *ast.InterfaceType:
								api["type "+s.Name.Name+" interface"] = true
								for _, m := range tt.Methods.List {
									for _, n := range m.Names {
										api["method "+s.Name.Name+"."+n.Name+" "+str(m.Type)] = true
									}
								}
							default:
								api["type "+s.Name.Name+" "+str(s.Type)] = true
							}
						}
					}
				}
			}
		}
	}
	return api
}

func unnamed(fl *ast.FieldList) *ast.FieldList {
	if fl == nil {
		return nil
	}
	out := &ast.FieldList{}
	for _, f := range fl.List {
		n := max(len(f.Names), 1)
		for range n {
			out.List = append(out.List, &ast.Field{Type: f.Type})
		}
	}
	return out
}

// TestExportedAPI checks that the drop-in exports everything gorilla
// v1.5.3 exports, with the same signatures, field types and constants.
func TestExportedAPI(t *testing.T) {
	src, err := moduleDir("github.com/gorilla/websocket")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	want, got := exported(t, src), exported(t, filepath.Join(root, "gorilla"))
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		t.Errorf("missing from the drop-in: %s", k)
	}
	t.Logf("gorilla exports %d names; the drop-in adds %q", len(want), extra)

	for _, c := range []struct{ g, w int }{
		{websocket.CloseNormalClosure, compat.CloseNormalClosure}, {websocket.CloseGoingAway, compat.CloseGoingAway},
		{websocket.CloseProtocolError, compat.CloseProtocolError}, {websocket.CloseUnsupportedData, compat.CloseUnsupportedData},
		{websocket.CloseNoStatusReceived, compat.CloseNoStatusReceived}, {websocket.CloseAbnormalClosure, compat.CloseAbnormalClosure},
		{websocket.CloseInvalidFramePayloadData, compat.CloseInvalidFramePayloadData}, {websocket.ClosePolicyViolation, compat.ClosePolicyViolation},
		{websocket.CloseMessageTooBig, compat.CloseMessageTooBig}, {websocket.CloseMandatoryExtension, compat.CloseMandatoryExtension},
		{websocket.CloseInternalServerErr, compat.CloseInternalServerErr}, {websocket.CloseServiceRestart, compat.CloseServiceRestart},
		{websocket.CloseTryAgainLater, compat.CloseTryAgainLater}, {websocket.CloseTLSHandshake, compat.CloseTLSHandshake},
		{websocket.TextMessage, compat.TextMessage}, {websocket.BinaryMessage, compat.BinaryMessage},
		{websocket.CloseMessage, compat.CloseMessage}, {websocket.PingMessage, compat.PingMessage}, {websocket.PongMessage, compat.PongMessage},
	} {
		if c.g != c.w {
			t.Errorf("constant %d in gorilla is %d in the drop-in", c.g, c.w)
		}
	}
	for _, e := range []struct{ g, w error }{
		{websocket.ErrBadHandshake, compat.ErrBadHandshake}, {websocket.ErrCloseSent, compat.ErrCloseSent}, {websocket.ErrReadLimit, compat.ErrReadLimit},
	} {
		if e.g.Error() != e.w.Error() {
			t.Errorf("error %q is %q in the drop-in", e.g, e.w)
		}
	}
	for _, ce := range []websocket.CloseError{{Code: 1000}, {Code: 1001, Text: "x"}, {Code: 1006, Text: "unexpected EOF"}, {Code: 1015}, {Code: 4000, Text: "app"}} {
		w := compat.CloseError{Code: ce.Code, Text: ce.Text}
		if ce.Error() != w.Error() {
			t.Errorf("CloseError %+v reads %q in gorilla, %q in the drop-in", ce, ce.Error(), w.Error())
		}
	}
	for _, code := range []int{1000, 1005, 4000} {
		if g, w := websocket.FormatCloseMessage(code, "r"), compat.FormatCloseMessage(code, "r"); !bytes.Equal(g, w) {
			t.Errorf("FormatCloseMessage(%d) = % x in gorilla, % x in the drop-in", code, g, w)
		}
	}
}
