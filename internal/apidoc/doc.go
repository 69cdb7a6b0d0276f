// Package apidoc holds a test that every exported name of the packages
// users import is documented, with a comment that starts with its name. It
// has no API.
package apidoc
