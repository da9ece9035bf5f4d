package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are serve's Prometheus metrics, on a registry of its own so that
// several servers (tests) do not collide.
type metrics struct {
	reg *prometheus.Registry

	eventsIn      *prometheus.CounterVec // by source
	processed     prometheus.Counter
	eventsBad     *prometheus.CounterVec // by source
	eventsDropped *prometheus.CounterVec // by reason: duplicate, overload
	alerts        *prometheus.CounterVec // by rule, severity
	detection     prometheus.Histogram   // received to alert stored, seconds
	mttd          prometheus.Histogram   // alert first_seen to detection, event time, seconds
	mttr          prometheus.Histogram   // alert detected to containment effective, seconds
	notifications *prometheus.CounterVec // by kind, outcome
	pending       prometheus.Gauge       // bytes accepted, not yet processed
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) } // names are constants: cannot fail at run time
	m.eventsIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keywatch_events_received_total", Help: "Usage events accepted, by source."}, []string{"source"})
	m.processed = prometheus.NewCounter(prometheus.CounterOpts{Name: "keywatch_events_processed_total", Help: "Usage events run through detection."})
	m.eventsBad = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keywatch_events_bad_total", Help: "Usage events rejected as invalid, by source."}, []string{"source"})
	m.eventsDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keywatch_events_dropped_total", Help: "Usage events not processed, by reason (duplicate, overload)."}, []string{"reason"})
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keywatch_alerts_total", Help: "Alerts fired, by rule and severity."}, []string{"rule", "severity"})
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m.detection = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "keywatch_detection_latency_seconds", Help: "Wall time from an event's receipt to its alert being stored.", Buckets: buckets})
	m.mttd = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "keywatch_mttd_seconds", Help: "Event time from an incident's first event to its alert.", Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600}})
	m.mttr = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "keywatch_mttr_seconds", Help: "Wall time from an alert to its containment action taking effect.", Buckets: buckets})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keywatch_notifications_total", Help: "Alert notifications, by receiver kind and outcome."}, []string{"kind", "outcome"})
	m.pending = prometheus.NewGauge(prometheus.GaugeOpts{Name: "keywatch_ingest_pending_bytes", Help: "Bytes accepted into the log and not yet processed."})
	for _, c := range []prometheus.Collector{m.eventsIn, m.processed, m.eventsBad, m.eventsDropped, m.alerts, m.detection, m.mttd, m.mttr, m.notifications, m.pending,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}
