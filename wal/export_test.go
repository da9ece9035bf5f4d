package wal

import "os"

// WithSyncHook returns opt with fn called on every segment fsync in place
// of (*os.File).Sync, so tests can count or fail fsyncs.
func WithSyncHook(opt Options, fn func(*os.File) error) Options {
	opt.syncFile = fn
	return opt
}

// AppendFrame and DecodeFrame expose the record framing to table tests.
var (
	AppendFrame = appendFrame
	DecodeFrame = decodeFrame
)

const HeaderSize = headerSize
