//go:build !js

package conn

import "os"

var osErrDeadlineExceeded = os.ErrDeadlineExceeded
