package server

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/ingest"
	"github.com/keywatch/keywatch/wal"
)

// Sources of accepted events, recorded with each batch in the log.
const (
	sourceNative  = "native"
	sourceOTLP    = "otlp"
	sourceLiteLLM = "litellm"
)

// A batch in the log is an 8-byte receive time (Unix nanoseconds, big
// endian) followed by the batch's events as native JSON Lines, re-encoded
// from whatever format they arrived in, so detection reads one format.
const batchHeader = 8

// badItem is one rejected line or item, reported back to the sender.
type badItem struct {
	Position int    `json:"position"` // line (native), item or span index
	Reason   string `json:"reason"`
}

// ingestResult is the answer to an ingest request.
type ingestResult struct {
	Accepted int       `json:"accepted"`
	Rejected int       `json:"rejected"`
	Errors   []badItem `json:"errors,omitempty"` // the first few
}

const maxReportedErrors = 20

func (r *ingestResult) reject(pos int, reason string) {
	r.Rejected++
	if len(r.Errors) < maxReportedErrors {
		r.Errors = append(r.Errors, badItem{Position: pos, Reason: reason})
	}
}

// readBody reads a request body, gunzipping it when Content-Encoding says
// so, and refuses one larger than the configured limit after
// decompression.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.cfg.Ingest.MaxBody
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, keywatch.Errorf(keywatch.EINVALID, "body: not gzip: %v", err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, keywatch.Errorf(keywatch.EINVALID, "Content-Encoding %q: want gzip or none", enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(b)) > limit:
		return nil, errTooLarge
	case err != nil:
		return nil, keywatch.Errorf(keywatch.EINVALID, "read body: %v", err)
	}
	return b, nil
}

var errTooLarge = keywatch.Errorf(keywatch.EINVALID, "body too large")

// ingestNative answers POST /v1/events: native JSON Lines, or a JSON array
// of events when the body starts with '['.
func (s *Server) ingestNative(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.ingestError(w, r, err)
		return
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(t, &items); err != nil {
			s.ingestError(w, r, keywatch.Errorf(keywatch.EINVALID, "body: not a JSON array of events: %v", err))
			return
		}
		var lines bytes.Buffer
		for _, it := range items {
			lines.Write(bytes.ReplaceAll(compactJSON(it), []byte{'\n'}, []byte{' '}))
			lines.WriteByte('\n')
		}
		body = lines.Bytes()
	}
	var res ingestResult
	batch := s.newBatch()
	dec := ingest.NewNative(bytes.NewReader(body))
	var ev keywatch.Event
	for {
		err := dec.Next(&ev)
		if errors.Is(err, io.EOF) {
			break
		}
		var le *ingest.LineError
		if errors.As(err, &le) {
			res.reject(le.Line, le.Reason)
			continue
		}
		if err != nil {
			s.ingestError(w, r, keywatch.Errorf(keywatch.EINVALID, "read body: %v", err))
			return
		}
		batch = ingest.AppendNative(batch, &ev)
		res.Accepted++
	}
	s.commit(w, r, sourceNative, batch, &res)
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// newBatch starts a log record stamped with the receive time.
func (s *Server) newBatch() []byte {
	b := make([]byte, batchHeader, 64<<10)
	binary.BigEndian.PutUint64(b, uint64(s.now().UnixNano()))
	return b
}

// commit appends a batch to the log and answers: 200 with the counts once
// the batch is durable, 400 when nothing was valid, 503 with Retry-After
// when detection is too far behind.
func (s *Server) commit(w http.ResponseWriter, r *http.Request, source string, batch []byte, res *ingestResult) {
	s.m.eventsBad.WithLabelValues(source).Add(float64(res.Rejected))
	if res.Accepted == 0 {
		status := http.StatusOK
		if res.Rejected > 0 {
			status = http.StatusBadRequest
		}
		writeJSON(w, status, res)
		return
	}
	if _, err := s.proc.log.Append(r.Context(), batch); err != nil {
		if errors.Is(err, wal.ErrFull) {
			s.m.eventsDropped.WithLabelValues("overload").Add(float64(res.Accepted))
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{
				"code": "overloaded", "message": "detection is behind; retry after 1 second"}})
			return
		}
		s.ingestError(w, r, fmt.Errorf("append to event log: %w", err))
		return
	}
	s.m.eventsIn.WithLabelValues(source).Add(float64(res.Accepted))
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) ingestError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errTooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": map[string]string{
			"code": keywatch.EINVALID, "message": fmt.Sprintf("body larger than %d bytes after decompression", s.cfg.Ingest.MaxBody)}})
		return
	}
	s.writeError(w, r, err)
}

// decodeSmallJSON decodes an optional small JSON request body into v.
func decodeSmallJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "read body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "body: %v", err)
	}
	return nil
}

// Stubs until the OTLP and LiteLLM decoders land.
func (s *Server) ingestOTLPTraces(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, keywatch.Errorf(keywatch.EINVALID, "OTLP traces: not yet supported"))
}
func (s *Server) ingestOTLPLogs(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, keywatch.Errorf(keywatch.EINVALID, "OTLP logs: not yet supported"))
}
func (s *Server) ingestLiteLLM(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, keywatch.Errorf(keywatch.EINVALID, "LiteLLM: not yet supported"))
}
