package specconv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkLoadConvert(b *testing.B) {
	bundle := newBundle(b)
	s, _ := Example(false)
	data, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	o := Options{Bundle: bundle, DefaultCgroupPath: "/berth/bench"}
	b.ReportAllocs()
	for b.Loop() {
		s, err := Load(bundle)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Convert(s, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConvert(b *testing.B) {
	bundle := newBundle(b)
	o := Options{Bundle: bundle, DefaultCgroupPath: "/berth/bench"}
	s, _ := Example(false)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(s, o); err != nil {
			b.Fatal(err)
		}
	}
}
