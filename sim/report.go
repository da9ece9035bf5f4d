package sim

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report as aligned tables for people: one row per
// attack, one per scenario, then the totals.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tKEY\tSTART (UTC)\tDURATION\tDETECTED\tMTTD\tRULES")
	for _, l := range r.Labels {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Scenario, l.KeyID, l.Start.UTC().Format("2006-01-02 15:04:05"),
			duration(l.End.Sub(l.Start).Seconds()), yesNo(l.Detected), mttd(l.Detected, l.MTTDSeconds), list(l.Rules))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SCENARIO\tDETECTED\tMEAN MTTD\tRULES")
	for _, s := range r.Scenarios {
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\n", s.Scenario, s.Detected, s.Labels, mttd(s.Detected > 0, s.MeanMTTDSeconds), list(s.Rules))
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "recall\t%d/%d\t%s\n", r.Detected, len(r.Labels), ratio(r.Recall, len(r.Labels) > 0))
	fmt.Fprintf(tw, "precision\t%d/%d\t%s\ttrue-positive alerts / all alerts\n", r.TruePositives, r.Alerts, ratio(r.Precision, r.Alerts > 0))
	fmt.Fprintf(tw, "mean MTTD\t%s\t\tevent time, grace %s after each attack\n", mttd(r.Detected > 0, r.MeanMTTDSeconds), duration(r.GraceSeconds))
	fmt.Fprintf(tw, "false alerts\t%d\t%s\tper 1000 benign key-days (%d key-days, %d touched by attacks)\n",
		r.FalseAlerts, per1000(r.FalsePer1000KeyDays, r.BenignKeyDays > 0), r.BenignKeyDays, r.KeyDays-r.BenignKeyDays)
	if len(r.FalseAlertsByRule) > 0 {
		rules := make([]string, 0, len(r.FalseAlertsByRule))
		for rule := range r.FalseAlertsByRule {
			rules = append(rules, rule)
		}
		slices.Sort(rules)
		parts := make([]string, len(rules))
		for i, rule := range rules {
			parts[i] = fmt.Sprintf("%s %d", rule, r.FalseAlertsByRule[rule])
		}
		fmt.Fprintf(tw, "false by rule\t%s\n", strings.Join(parts, ", "))
	}
	if r.BadAlertLines > 0 {
		fmt.Fprintf(tw, "bad alert lines\t%d\t\tskipped\n", r.BadAlertLines)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, b := range r.BadAlertLineSamples {
		if _, err := fmt.Fprintf(w, "alerts line %d: %s (skipped)\n", b.Line, b.Reason); err != nil {
			return err
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "MISSED"
}

func mttd(ok bool, secs float64) string {
	if !ok {
		return "-"
	}
	return duration(secs)
}

// duration formats seconds to the second: 1m12s.
func duration(secs float64) string {
	return (time.Duration(math.Round(secs)) * time.Second).String()
}

func ratio(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func per1000(v float64, ok bool) string {
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}
