package libcontainer

import "testing"

func TestProcessStartErrorExecve(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{"exec /run.sh: no such file or directory", true},
		{"exec /bin/sh: cannot allocate memory", true},
		{`exec: "x": executable file not found in $PATH`, false},
		{"process.cwd /x: chdir: not a directory", false},
		{"error running startContainer hook #0: /bin/sh: exit status 1", false},
	} {
		e := &ProcessStartError{ID: "c", Msg: tc.msg}
		if got := e.Execve(); got != tc.want {
			t.Errorf("Execve(%q) = %v, want %v", tc.msg, got, tc.want)
		}
		if want := "start container c: " + tc.msg; e.Error() != want {
			t.Errorf("Error() = %q, want %q", e.Error(), want)
		}
	}
}
