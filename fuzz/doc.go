// Package fuzz holds the library's native Go fuzz targets (go test -fuzz) and
// their committed seed corpora under testdata/fuzz. It has no API; see
// README.md for how to run the targets and the record of campaigns.
package fuzz
