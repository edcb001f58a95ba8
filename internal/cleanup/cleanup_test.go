package cleanup

import (
	"slices"
	"testing"
)

func TestRunUndoesNewestFirstOnce(t *testing.T) {
	var s Stack
	var got []int
	for i := 1; i <= 3; i++ {
		s.Push(func() { got = append(got, i) })
	}
	s.Run()
	if !slices.Equal(got, []int{3, 2, 1}) {
		t.Fatalf("undo order %v, want [3 2 1]", got)
	}
	s.Run()
	if len(got) != 3 {
		t.Fatalf("a second Run undid again: %v", got)
	}
}
