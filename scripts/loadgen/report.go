package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// result is one load's line in the results file; times in microseconds.
type result struct {
	label                      string
	rate, n, errs              int
	p50, p90, p99, p999, max   float64
	svc50, svc99, lag50, lag99 float64
}

func parseResult(line string) (result, error) {
	f := strings.Split(line, "\t")
	if len(f) != 13 {
		return result{}, fmt.Errorf("result line has %d fields, want 13: %q", len(f), line)
	}
	var r result
	var errs []error
	atoi := func(s string) int { v, err := strconv.Atoi(s); errs = append(errs, err); return v }
	atof := func(s string) float64 { v, err := strconv.ParseFloat(s, 64); errs = append(errs, err); return v }
	r.label, r.rate, r.n, r.errs = f[0], atoi(f[1]), atoi(f[2]), atoi(f[3])
	r.p50, r.p90, r.p99, r.p999, r.max = atof(f[4]), atof(f[5]), atof(f[6]), atof(f[7]), atof(f[8])
	r.svc50, r.svc99, r.lag50, r.lag99 = atof(f[9]), atof(f[10]), atof(f[11]), atof(f[12])
	if err := errors.Join(errs...); err != nil {
		return result{}, fmt.Errorf("result line %q: %w", line, err)
	}
	return r, nil
}

// median combines the rounds of one path at one rate, field by field.
func median(rs []result) result {
	m := rs[0]
	med := func(get func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m.n, m.errs = 0, 0
	for _, r := range rs {
		m.n += r.n
		m.errs += r.errs
	}
	m.p50 = med(func(r result) float64 { return r.p50 })
	m.p90 = med(func(r result) float64 { return r.p90 })
	m.p99 = med(func(r result) float64 { return r.p99 })
	m.p999 = med(func(r result) float64 { return r.p999 })
	m.max = med(func(r result) float64 { return r.max })
	m.svc50 = med(func(r result) float64 { return r.svc50 })
	m.svc99 = med(func(r result) float64 { return r.svc99 })
	m.lag50 = med(func(r result) float64 { return r.lag50 })
	m.lag99 = med(func(r result) float64 { return r.lag99 })
	return m
}

func runReport(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: loadgen report RESULTS")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	type key struct {
		rate  int
		label string
	}
	runs := map[key][]result{}
	var rates []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		r, err := parseResult(sc.Text())
		if err != nil {
			return err
		}
		k := key{r.rate, r.label}
		runs[k] = append(runs[k], r)
		if !slices.Contains(rates, r.rate) {
			rates = append(rates, r.rate)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	slices.Sort(rates)
	labels := []string{"direct", "nginx", "goproxy", "fastproxy", "gnetproxy", "gateway", "gateway-fasthttp", "gateway-nethttp", "gateway-redis"}
	fmt.Println("Latency in µs, measured from each request's scheduled send time (open loop);")
	fmt.Println("added = path - direct at the same percentile; medians over rounds when there are several.")
	fmt.Println()
	fmt.Printf("| rate/s | path | rounds | n | errors | p50 | p90 | p99 | p99.9 | added p50 | added p90 | added p99 | service p50 | pacer lag p99 |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var verdicts []string
	for _, rate := range rates {
		d, haveDirect := runs[key{rate, "direct"}]
		var direct result
		if haveDirect {
			direct = median(d)
		}
		med := map[string]result{}
		for _, l := range labels {
			rs, ok := runs[key{rate, l}]
			if !ok {
				continue
			}
			m := median(rs)
			med[l] = m
			added := "-\t-\t-"
			if haveDirect && l != "direct" {
				added = fmt.Sprintf("%.0f\t%.0f\t%.0f", m.p50-direct.p50, m.p90-direct.p90, m.p99-direct.p99)
			}
			a := strings.Split(added, "\t")
			fmt.Printf("| %d | %s | %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %s | %s | %s | %.0f | %.0f |\n",
				rate, l, len(rs), m.n, m.errs, m.p50, m.p90, m.p99, m.p999, a[0], a[1], a[2], m.svc50, m.lag99)
		}
		g, okG := med["gateway"]
		n, okN := med["nginx"]
		if !haveDirect || !okG || !okN {
			continue
		}
		ratio := func(gv, nv float64) string {
			if nv <= 0 {
				return "n/a (nginx added ≤ 0)"
			}
			return fmt.Sprintf("%.2fx", gv/nv)
		}
		ga50, ga90, ga99 := g.p50-direct.p50, g.p90-direct.p90, g.p99-direct.p99
		na50, na90, na99 := n.p50-direct.p50, n.p90-direct.p90, n.p99-direct.p99
		verdicts = append(verdicts, fmt.Sprintf("%d req/s: gateway/nginx added latency p50 %s, p90 %s, p99 %s; total latency p50 %.2fx, p99 %.2fx",
			rate, ratio(ga50, na50), ratio(ga90, na90), ratio(ga99, na99), g.p50/n.p50, g.p99/n.p99))
		pass := func(ok bool) string {
			if ok {
				return "PASS"
			}
			return "FAIL"
		}
		verdicts = append(verdicts, fmt.Sprintf("%d req/s: targets: added p50 %.0fµs < 100µs %s; added p99 %.0fµs < 1000µs %s; added ≤ 1.5x nginx at p50 %s, p99 %s",
			rate, ga50, pass(ga50 < 100), ga99, pass(ga99 < 1000), pass(na50 > 0 && ga50 <= 1.5*na50), pass(na99 > 0 && ga99 <= 1.5*na99)))
	}
	fmt.Println()
	for _, v := range verdicts {
		fmt.Println(v)
	}
	return nil
}
