package server

import (
	"bytes"
	"compress/gzip"
	"context"
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
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
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
	if err := s.append(r.Context(), batch); err != nil {
		s.appendError(w, r, err, res.Accepted)
		return
	}
	s.m.eventsIn.WithLabelValues(source).Add(float64(res.Accepted))
	writeJSON(w, http.StatusOK, res)
}

// append makes a batch durable in the log, unless detection is more than
// Ingest.MaxPending bytes behind (wal.ErrFull).
func (s *Server) append(ctx context.Context, batch []byte) error {
	if s.proc.lag()+int64(len(batch)) > s.cfg.Ingest.MaxPending {
		return wal.ErrFull
	}
	if _, err := s.proc.log.Append(ctx, batch); err != nil {
		return err
	}
	s.proc.appended.Add(int64(len(batch)))
	s.m.pending.Set(float64(s.proc.lag()))
	return nil
}

// appendError answers a failed append: 503 with Retry-After when the log
// is full (detection is behind), 500 otherwise.
func (s *Server) appendError(w http.ResponseWriter, r *http.Request, err error, events int) {
	if errors.Is(err, wal.ErrFull) {
		s.m.eventsDropped.WithLabelValues("overload").Add(float64(events))
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{
			"code": "overloaded", "message": "detection is behind; retry after 1 second"}})
		return
	}
	s.writeError(w, r, fmt.Errorf("append to event log: %w", err))
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

// ingestOTLPTraces answers OTLP/HTTP POST /v1/traces (protobuf or JSON):
// GenAI inference spans become events. The answer is an
// ExportTraceServiceResponse in the request's encoding, with partial_success
// when some spans could not be used.
func (s *Server) ingestOTLPTraces(w http.ResponseWriter, r *http.Request) {
	s.ingestOTLP(w, r, ingest.DecodeOTLPTraces, func(rejected int64, msg string) otlpResponse {
		resp := ptraceotlp.NewExportResponse()
		if rejected > 0 {
			resp.PartialSuccess().SetRejectedSpans(rejected)
			resp.PartialSuccess().SetErrorMessage(msg)
		}
		return resp
	})
}

// ingestOTLPLogs answers OTLP/HTTP POST /v1/logs: GenAI inference detail
// events become events.
func (s *Server) ingestOTLPLogs(w http.ResponseWriter, r *http.Request) {
	s.ingestOTLP(w, r, ingest.DecodeOTLPLogs, func(rejected int64, msg string) otlpResponse {
		resp := plogotlp.NewExportResponse()
		if rejected > 0 {
			resp.PartialSuccess().SetRejectedLogRecords(rejected)
			resp.PartialSuccess().SetErrorMessage(msg)
		}
		return resp
	})
}

// otlpResponse is what the pdata export responses have in common.
type otlpResponse interface {
	MarshalProto() ([]byte, error)
	MarshalJSON() ([]byte, error)
}

type otlpDecoder func(body []byte, contentType string, emit func(*keywatch.Event)) (ingest.Stats, error)

func (s *Server) ingestOTLP(w http.ResponseWriter, r *http.Request, decode otlpDecoder, respond func(int64, string) otlpResponse) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.ingestError(w, r, err)
		return
	}
	ct := r.Header.Get("Content-Type")
	batch := s.newBatch()
	st, err := decode(body, ct, func(ev *keywatch.Event) { batch = ingest.AppendNative(batch, ev) })
	if err != nil {
		if errors.Is(err, ingest.ErrContentType) {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]any{"error": map[string]string{
				"code": keywatch.EINVALID, "message": "Content-Type must be application/x-protobuf or application/json"}})
			return
		}
		s.writeError(w, r, err)
		return
	}
	s.m.eventsBad.WithLabelValues(sourceOTLP).Add(float64(st.Skipped))
	if st.Events > 0 {
		if err := s.append(r.Context(), batch); err != nil {
			s.appendError(w, r, err, st.Events)
			return
		}
		s.m.eventsIn.WithLabelValues(sourceOTLP).Add(float64(st.Events))
	}
	resp := respond(int64(st.Skipped), st.Message())
	var out []byte
	if strings.HasPrefix(strings.ToLower(ct), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		out, err = resp.MarshalJSON()
	} else {
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, err = resp.MarshalProto()
	}
	if err != nil {
		s.writeError(w, r, fmt.Errorf("encode OTLP response: %w", err))
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// ingestLiteLLM answers POST /v1/litellm: the StandardLoggingPayload that
// LiteLLM's generic API logger sends (one object, a JSON array or NDJSON).
// Configure LiteLLM with a generic_api callback whose endpoint is this URL
// and whose Authorization header carries an ingest token.
func (s *Server) ingestLiteLLM(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.ingestError(w, r, err)
		return
	}
	batch := s.newBatch()
	st, err := ingest.DecodeLiteLLM(body, func(ev *keywatch.Event) { batch = ingest.AppendNative(batch, ev) })
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := ingestResult{Accepted: st.Events}
	for _, p := range st.Problems {
		res.reject(0, p.Where+": "+p.Reason)
	}
	res.Rejected = st.Skipped
	s.commit(w, r, sourceLiteLLM, batch, &res)
}
