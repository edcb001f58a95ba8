package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
)

// writeTable prints what text/tabwriter printed for list before it.
func TestWriteTableMatchesTabwriter(t *testing.T) {
	header := [listColumns]string{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}
	for _, tc := range []struct {
		name string
		rows [][listColumns]string
	}{
		{name: "header only"},
		{name: "short cells", rows: [][listColumns]string{{"a", "1", "running", "/b", "2026-11-23T16:21:03Z", "root"}}},
		{name: "a cell of 9, 10 and 20 characters", rows: [][listColumns]string{
			{"123456789", "0", "stopped", "/bundle/of/twenty/ch", "t", "#1000"},
			{"1234567890", "4194304", "created", "/x", "t", ""},
		}},
		{name: "multibyte cells", rows: [][listColumns]string{{"é", "1", "paused", "/bündel/ünïcödé/päth", "t", "ö"}}},
		{name: "empty cells", rows: [][listColumns]string{{"", "", "", "", "", ""}}},
	} {
		var want bytes.Buffer
		tw := tabwriter.NewWriter(&want, 12, 1, 3, ' ', 0)
		for _, r := range append([][listColumns]string{header}, tc.rows...) {
			fmt.Fprint(tw, strings.Join(r[:], "\t")+"\n")
		}
		tw.Flush()
		var got bytes.Buffer
		bw := bufio.NewWriter(&got)
		writeTable(bw, append([][listColumns]string{header}, tc.rows...))
		bw.Flush()
		if got.String() != want.String() {
			t.Errorf("%s:\ngot\n%q\nwant\n%q", tc.name, got.String(), want.String())
		}
	}
}

// A tab, newline or 0xff byte in a cell is printed as the cell's text, not
// read as a cell or line separator (tabwriter would).
func TestWriteTablePrintsControlBytesAsText(t *testing.T) {
	header := [listColumns]string{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}
	row := [listColumns]string{"a\xffb", "1", "running", "/b\tx\ny", "t", "root"}
	var got bytes.Buffer
	bw := bufio.NewWriter(&got)
	writeTable(bw, [][listColumns]string{header, row})
	bw.Flush()
	want := "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n" +
		"a\xffb         1           running     /b\tx\ny      t           root\n"
	if got.String() != want {
		t.Errorf("got\n%q\nwant\n%q", got.String(), want)
	}
}
