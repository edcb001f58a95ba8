// Package cleanup is the rollback stack of a multi-step operation: each
// step that makes something pushes its undo, and a failure runs them all,
// newest first, in one place.
package cleanup

// Stack holds undo functions.
type Stack struct{ fns []func() }

// Push registers an undo.
func (s *Stack) Push(fn func()) { s.fns = append(s.fns, fn) }

// Run undoes everything, newest first, and empties the stack.
func (s *Stack) Run() {
	for i := len(s.fns) - 1; i >= 0; i-- {
		s.fns[i]()
	}
	s.fns = nil
}
