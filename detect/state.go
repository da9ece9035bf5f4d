package detect

import (
	"encoding/gob"
	"fmt"
	"io"

	"github.com/keywatch/keywatch"
	"github.com/keywatch/keywatch/profile"
)

// stateVersion is bumped whenever the saved layout changes incompatibly.
const stateVersion = 1

// state is what Save writes: every profile and the symbol table their sets
// refer to. Short-lived cross-key state (per-address failures) is not kept.
type state struct {
	Version  int
	Symbols  []string
	Keys     map[string]*KeyState
	Services map[string]*profile.Key
}

// Save writes the engine's profiles so that a later engine can Load them
// and continue where this one stopped.
func (e *Engine) Save(w io.Writer) error {
	s := state{Version: stateVersion, Symbols: e.syms.names, Keys: e.keys, Services: e.services}
	if err := gob.NewEncoder(w).Encode(&s); err != nil {
		return fmt.Errorf("save detector state: %w", err)
	}
	return nil
}

// Load replaces the engine's profiles with those Save wrote.
func (e *Engine) Load(r io.Reader) error {
	var s state
	if err := gob.NewDecoder(r).Decode(&s); err != nil {
		return keywatch.Errorf(keywatch.EINVALID, "load detector state: not a keywatch state file (%v)", err)
	}
	if s.Version != stateVersion {
		return keywatch.Errorf(keywatch.EINVALID, "load detector state: version %d, want %d", s.Version, stateVersion)
	}
	if len(s.Symbols) == 0 || s.Symbols[0] != "" {
		return keywatch.Errorf(keywatch.EINVALID, "load detector state: symbol table is damaged")
	}
	syms := newSymbols()
	for _, name := range s.Symbols[1:] {
		syms.id(name)
	}
	if s.Keys == nil {
		s.Keys = make(map[string]*KeyState)
	}
	if s.Services == nil {
		s.Services = make(map[string]*profile.Key)
	}
	for id, ks := range s.Keys {
		if ks == nil || !validIDs(&ks.Profile, len(s.Symbols)) {
			return keywatch.Errorf(keywatch.EINVALID, "load detector state: profile of key %q is damaged", id)
		}
	}
	for name, p := range s.Services {
		if p == nil || !validIDs(p, len(s.Symbols)) {
			return keywatch.Errorf(keywatch.EINVALID, "load detector state: profile of service %q is damaged", name)
		}
	}
	e.syms, e.keys, e.services = syms, s.Keys, s.Services
	return nil
}

// validIDs reports whether every model and operation id of p is in a
// symbol table of n names.
func validIDs(p *profile.Key, n int) bool {
	for _, set := range []*profile.Set{&p.Models, &p.Operations} {
		for _, e := range set.Entries {
			if int(e.ID) >= n {
				return false
			}
		}
	}
	return true
}
