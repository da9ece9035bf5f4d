package providertest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
)

// regenerated numbers the secrets HandleRegenerate makes, across fakes.
var regenerated atomic.Int64

// HandleRegenerate adds POST /key/regenerate {"key"} to the fake, after
// regenerate_key_fn in litellm/proxy/management_endpoints/
// key_management_endpoints.py: a key without "sk" is the hashed token; the
// key's token becomes the SHA-256 of a new secret "sk-regenerated-N", and
// the answer carries the new secret as "key", its hash as "token_id" and
// "key_name" as "sk-...LAST4". It is off by default because the real route
// needs a LiteLLM Enterprise licence; call it before the first request.
func (s *LiteLLMServer) HandleRegenerate() {
	s.mux.HandleFunc("POST /key/regenerate", s.auth(s.regenerate))
}

func (s *LiteLLMServer) regenerate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Key string `json:"key"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil || body.Key == "" {
		s.writeError(w, http.StatusBadRequest, "bad_request_error", "No key passed in.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.keys {
		k := &s.keys[i]
		if k.Token != body.Key {
			continue
		}
		secret := "sk-regenerated-" + strconv.FormatInt(regenerated.Add(1), 10)
		sum := sha256.Sum256([]byte(secret))
		k.Token = hex.EncodeToString(sum[:])
		k.KeyName = "sk-..." + secret[len(secret)-4:]
		writeJSON(w, map[string]any{"key": secret, "token_id": k.Token, "key_name": k.KeyName, "key_alias": k.KeyAlias})
		return
	}
	s.writeError(w, http.StatusNotFound, "not_found_error", "Key "+body.Key+" not found.")
}
