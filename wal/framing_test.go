package wal_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/keywatch/keywatch/wal"
)

func TestFraming(t *testing.T) {
	valid := wal.AppendFrame(nil, []byte("hello"))
	tests := []struct {
		name    string
		in      []byte
		want    []byte // payload, when the frame is valid
		wantN   int
		wantErr string // substring of the reason, when invalid
	}{
		{name: "empty payload", in: wal.AppendFrame(nil, nil), want: []byte{}, wantN: wal.HeaderSize},
		{name: "small", in: valid, want: []byte("hello"), wantN: wal.HeaderSize + 5},
		{name: "trailing bytes ignored", in: append(bytes.Clone(valid), 1, 2, 3), want: []byte("hello"), wantN: wal.HeaderSize + 5},
		{name: "large", in: wal.AppendFrame(nil, bytes.Repeat([]byte{0xab}, 1<<20)), want: bytes.Repeat([]byte{0xab}, 1<<20), wantN: wal.HeaderSize + 1<<20},
		{name: "nothing", in: nil, wantErr: "short header"},
		{name: "torn header", in: valid[:5], wantErr: "short header"},
		{name: "torn payload", in: valid[:len(valid)-1], wantErr: "short payload"},
		{name: "zeroes", in: make([]byte, 64), wantErr: "checksum"},
		{name: "flipped payload bit", in: flip(valid, wal.HeaderSize+2), wantErr: "checksum"},
		{name: "flipped length bit", in: flip(append(bytes.Clone(valid), make([]byte, 32)...), 0), wantErr: "checksum"},
		{name: "flipped checksum bit", in: flip(valid, 5), wantErr: "checksum"},
		{name: "length over maximum", in: binary.LittleEndian.AppendUint32(nil, wal.MaxRecord+1), wantErr: "short header"},
		{name: "length over maximum with header", in: append(binary.LittleEndian.AppendUint32(nil, wal.MaxRecord+1), 0, 0, 0, 0), wantErr: "exceeds maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, reason := wal.DecodeFrame(tt.in)
			if tt.wantErr != "" {
				if !strings.Contains(reason, tt.wantErr) {
					t.Fatalf("reason = %q, want it to contain %q", reason, tt.wantErr)
				}
				return
			}
			if reason != "" {
				t.Fatalf("unexpected reason %q", reason)
			}
			if n != tt.wantN || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %d bytes payload, n=%d; want %d bytes, n=%d", len(got), n, len(tt.want), tt.wantN)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x10
	return b
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(wal.AppendFrame(nil, []byte("seed")))
	f.Add(wal.AppendFrame(nil, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, n, reason := wal.DecodeFrame(b)
		if reason != "" {
			return
		}
		if n > len(b) || n != wal.HeaderSize+len(payload) {
			t.Fatalf("n = %d for %d input bytes and %d payload bytes", n, len(b), len(payload))
		}
		if re := wal.AppendFrame(nil, payload); !bytes.Equal(re, b[:n]) {
			t.Fatalf("re-encoding differs from input")
		}
	})
}

func TestPosText(t *testing.T) {
	for _, p := range []wal.Pos{{}, {Segment: 1}, {Segment: 3, Offset: 1024}, {Segment: 1<<64 - 1, Offset: 1<<63 - 1}} {
		b, err := p.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var q wal.Pos
		if err := q.UnmarshalText(b); err != nil || q != p {
			t.Errorf("round trip %v via %q = %v, %v", p, b, q, err)
		}
	}
	for _, bad := range []string{"", "1", "1:", ":1", "a:1", "1:-1", "1:2:3", "-1:0"} {
		var q wal.Pos
		if err := q.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) = %v, want error", bad, q)
		}
	}
}
