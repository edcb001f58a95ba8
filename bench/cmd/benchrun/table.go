package main

import (
	"fmt"
	"sort"
	"strings"
)

func fmtNum(v float64, unit string) string {
	switch {
	case unit == "":
		return fmt.Sprintf("%.3g", v)
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	default:
		return fmt.Sprintf("%.2f %s", v, unit)
	}
}

func (b *bench) cell(r *row, name string) string {
	if t, ok := r.text[name]; ok {
		return t
	}
	if v, ok := r.num[name]; ok {
		return fmtNum(v, r.unit)
	}
	return "—"
}

func (b *bench) ratio(r *row, of, to string) string {
	if !r.ratio {
		return "—"
	}
	x, ok1 := r.num[of]
	y, ok2 := r.num[to]
	_, t1 := r.text[of]
	_, t2 := r.text[to]
	if !ok1 || !ok2 || t1 || t2 || y == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", x/y)
}

// table renders the results as Markdown: one row per measurement, the
// median of each runtime, and berth's ratios (below 1: berth is better).
func (b *bench) table() string {
	var names []string
	for _, r := range b.rts {
		names = append(names, r.name)
	}
	has := func(n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
	var sb strings.Builder
	head := []string{"#", "measurement (median)"}
	for _, n := range names {
		if n == "crun" {
			head = append(head, "crun (no cgroup)")
		} else {
			head = append(head, n)
		}
	}
	if has("runc") {
		head = append(head, "berth/runc")
	}
	if has("crun") {
		head = append(head, "berth/crun")
	}
	fmt.Fprintf(&sb, "| %s |\n", strings.Join(head, " | "))
	seps := make([]string, len(head))
	for i := range seps {
		seps[i] = "---"
		if i >= 2 {
			seps[i] = "---:"
		}
	}
	fmt.Fprintf(&sb, "|%s|\n", strings.Join(seps, "|"))
	rows := append([]*row(nil), b.rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].target < rows[j].target })
	for _, r := range rows {
		cells := []string{r.target, r.name}
		for _, n := range names {
			cells = append(cells, b.cell(r, n))
		}
		if has("runc") {
			cells = append(cells, b.ratio(r, "berth", "runc"))
		}
		if has("crun") {
			cells = append(cells, b.ratio(r, "berth", "crun"))
		}
		fmt.Fprintf(&sb, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintf(&sb, "\nRuns: %d per runtime per latency row (alternating), concurrency: %d container(s) × %d round(s), list: %d containers.\n",
		b.cfg.runs, b.cfg.conc, b.cfg.concRounds, b.cfg.listN)
	if len(b.notes) > 0 {
		sb.WriteString("\nNotes from this run:\n")
		for _, n := range b.notes {
			fmt.Fprintf(&sb, "- %s\n", strings.ReplaceAll(n, "|", "\\|"))
		}
	}
	return sb.String()
}
