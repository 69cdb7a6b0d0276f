package bench

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	MaybeRunChild() // the test binary doubles as the server child process
	raiseFileLimit()
	os.Exit(m.Run())
}
