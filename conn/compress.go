package conn

import (
	"errors"

	"github.com/wirelevel/ws/handshake"
)

// CompressionOptions configure permessage-deflate (RFC 7692).
type CompressionOptions struct{}

// pmdParams are the negotiated permessage-deflate parameters.
type pmdParams struct{}

// negotiateServer picks the permessage-deflate offer to accept, if any, and
// sets up.Extensions to the response. Until the data path lands, every offer
// is declined, which RFC 7692 allows.
func negotiateServer(opts *CompressionOptions, up *handshake.Upgrade) (*pmdParams, error) {
	return nil, nil
}

func (c *Conn) setCompression(p *pmdParams, ext string) {
	if p != nil {
		c.extensions = ext
	}
}

// offerClient returns the Sec-WebSocket-Extensions offer, or "".
func offerClient(opts *CompressionOptions) string { return "" }

// acceptClient checks the server's extensions answer.
func acceptClient(opts *CompressionOptions, exts []handshake.Extension) (*pmdParams, error) {
	if len(exts) > 0 {
		return nil, errors.New("conn: server accepted an extension that was not offered")
	}
	return nil, nil
}
