package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/keywatch/keywatch"
)

// listAlerts answers GET /api/alerts?key_id=&rule=&service=&status=&since=&until=&limit=
// with the matching alerts, newest first.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := keywatch.AlertFilter{KeyID: q.Get("key_id"), Rule: q.Get("rule"), Service: q.Get("service"), Status: keywatch.AlertStatus(q.Get("status")), Limit: 100}
	var err error
	if f.Since, err = queryTime(q.Get("since")); err != nil {
		s.writeError(w, r, keywatch.Errorf(keywatch.EINVALID, "since: %v", err))
		return
	}
	if f.Until, err = queryTime(q.Get("until")); err != nil {
		s.writeError(w, r, keywatch.Errorf(keywatch.EINVALID, "until: %v", err))
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			s.writeError(w, r, keywatch.Errorf(keywatch.EINVALID, "limit: want 1 to 10000"))
			return
		}
		f.Limit = n
	}
	alerts, err := s.store.Alerts(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if alerts == nil {
		alerts = []*keywatch.Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts})
}

func queryTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.Alert(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// transitions maps the POST /api/alerts/{id}/{transition} names to states.
var transitions = map[string]keywatch.AlertStatus{
	"acknowledge":    keywatch.AlertAcknowledged,
	"confirm":        keywatch.AlertConfirmed,
	"false-positive": keywatch.AlertFalsePositive,
	"resolve":        keywatch.AlertResolved,
}

// transitionAlert moves an alert through its lifecycle; the request body
// may carry {"reason": "..."} for the audit log.
func (s *Server) transitionAlert(w http.ResponseWriter, r *http.Request) {
	st, ok := transitions[r.PathValue("transition")]
	if !ok {
		s.writeError(w, r, keywatch.Errorf(keywatch.ENOTFOUND, "no transition %q: want acknowledge, confirm, false-positive or resolve", r.PathValue("transition")))
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decodeSmallJSON(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	tok := tokenFrom(r.Context())
	id := r.PathValue("id")
	c := keywatch.Change{Actor: "token:" + tok.ID + " (" + tok.Name + ")", Reason: body.Reason}
	if err := s.store.UpdateAlert(r.Context(), id, st, nil, c); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.store.Alert(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.resp.transition(r.Context(), a, c); err != nil {
		s.writeError(w, r, err)
		return
	}
	if a, err = s.store.Alert(r.Context(), id); err != nil { // confirm may have added actions
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}
