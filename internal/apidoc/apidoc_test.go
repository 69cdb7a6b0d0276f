package apidoc

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// packages are the directories checked, relative to the module root;
// fields says whether exported struct fields are checked too.
var packages = []struct {
	dir    string
	fields bool
}{
	{"conn", true},
	{"conn/wsjson", true},
	{"compat/gorilla", true},
	{"frame", false},
	{"handshake", false},
	{"deflate", false},
}

// TestExportedNamesDocumented fails for every exported function, method
// of an exported type, type, constant, variable and (where checked)
// struct field without a doc comment, in the native and the browser
// (GOOS=js GOARCH=wasm) builds. A function's or method's comment must
// start with its name, a type's with its name or "A", "An" or "The" and
// its name. A field may share the comment of the field on the line above
// it, as in
//
//	// ReadBufferSize and WriteBufferSize are ...
//	ReadBufferSize  int
//	WriteBufferSize int
func TestExportedNamesDocumented(t *testing.T) {
	for _, pkg := range packages {
		for _, goos := range []string{"linux", "js"} {
			ctx := build.Default
			ctx.GOOS, ctx.GOARCH = goos, "amd64"
			if goos == "js" {
				ctx.GOARCH = "wasm"
			}
			dir := filepath.Join("..", "..", filepath.FromSlash(pkg.dir))
			bp, err := ctx.ImportDir(dir, 0)
			if err != nil {
				t.Fatalf("%s (%s): %v", pkg.dir, goos, err)
			}
			fset := token.NewFileSet()
			for _, name := range bp.GoFiles {
				f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range undocumented(fset, f, pkg.fields) {
					t.Errorf("%s/%s (%s): %s", pkg.dir, name, goos, p)
				}
			}
		}
	}
}

// undocumented returns a line for each exported name of f that is not
// documented as TestExportedNamesDocumented asks.
func undocumented(fset *token.FileSet, f *ast.File, fields bool) []string {
	var out []string
	bad := func(pos token.Pos, what string) {
		out = append(out, fmt.Sprintf("line %d: %s", fset.Position(pos).Line, what))
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || !exportedRecv(d) {
				continue
			}
			if d.Doc == nil {
				bad(d.Pos(), d.Name.Name+" has no doc comment")
			} else if !startsWith(d.Doc.Text(), d.Name.Name) {
				bad(d.Pos(), d.Name.Name+"'s doc comment does not start with its name")
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					doc := s.Doc
					if doc == nil && len(d.Specs) == 1 {
						doc = d.Doc
					}
					if doc == nil {
						bad(s.Pos(), "type "+s.Name.Name+" has no doc comment")
					} else if text := doc.Text(); !startsWith(text, s.Name.Name) && !startsWith(text, "A "+s.Name.Name) &&
						!startsWith(text, "An "+s.Name.Name) && !startsWith(text, "The "+s.Name.Name) {
						bad(s.Pos(), "type "+s.Name.Name+"'s doc comment does not start with its name")
					}
					var list []*ast.Field
					switch tt := s.Type.(type) {
					case *ast.StructType:
						if fields {
							list = tt.Fields.List
						}
					case *ast.InterfaceType:
						list = tt.Methods.List
					}
					prevLine, prevOK := -1, false
					for _, fl := range list {
						line := fset.Position(fl.Pos()).Line
						ok := fl.Doc != nil || fl.Comment != nil || (prevOK && line == prevLine+1)
						for _, n := range fl.Names {
							if n.IsExported() && !ok {
								bad(n.Pos(), s.Name.Name+"."+n.Name+" has no comment")
							}
						}
						prevLine, prevOK = fset.Position(fl.End()).Line, ok
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
							bad(n.Pos(), n.Name+" has no doc comment")
						}
					}
				}
			}
		}
	}
	return out
}

// exportedRecv reports whether d is a function or a method of an exported
// type.
func exportedRecv(d *ast.FuncDecl) bool {
	if d.Recv == nil {
		return true
	}
	t := d.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if g, ok := t.(*ast.IndexExpr); ok {
		t = g.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

// startsWith reports whether text starts with the word w.
func startsWith(text, w string) bool {
	rest, ok := strings.CutPrefix(text, w)
	return ok && (rest == "" || strings.IndexAny(rest[:1], " \n,.:;'") == 0)
}
