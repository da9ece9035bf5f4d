// Package keywatch holds the domain types of keywatch: usage events, inventory
// keys, alerts and containment actions, and the error type shared by every
// adapter. It imports nothing from the rest of the module; every other package
// imports it.
//
// The pipeline is decode (ingest) → enrich → profile → detect → alert → route →
// contain. Each stage lives in its own package; see DESIGN.md.
package keywatch

import (
	"net/netip"
	"time"
)

// Event is one request to an LLM API, as the native JSON Lines format of
// DESIGN.md describes it. Decoders fill caller-owned Events and reuse them, so a
// consumer that keeps an Event past the call that handed it over must copy it.
//
// String fields are interned by the decoders: two events with the same key id
// share the same string data, so holding them is cheap.
type Event struct {
	Time         time.Time  // when the request reached the API (event time)
	KeyID        string     // inventory id or fingerprint; never the secret
	Service      string     // calling service; filled from the inventory when empty
	Env          string     // prod, staging, dev, ...; from the inventory when empty
	ClientIP     netip.Addr // source address as the API saw it; invalid when unknown
	Country      string     // ISO 3166-1 alpha-2; filled by geo enrichment
	ASN          uint32     // autonomous system number; filled by ASN enrichment
	UserAgent    string
	Provider     string // openai, anthropic, google, azure, bedrock, ...
	Model        string
	Operation    string // chat, completion, embeddings, responses, images, ...
	InputTokens  int64
	OutputTokens int64
	Status       int     // HTTP status returned; 0 when unknown
	LatencyMS    float64 // 0 when unknown
	CostUSD      float64 // 0 when unknown
	RequestID    string  // used to drop duplicates
}

// Tokens returns the event's input plus output tokens.
func (e *Event) Tokens() int64 { return e.InputTokens + e.OutputTokens }

// AuthFailure reports whether the API refused the request's credentials.
func (e *Event) AuthFailure() bool { return e.Status == 401 || e.Status == 403 }
