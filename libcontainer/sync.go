package libcontainer

// The parent and `berth init` speak JSON lines over the init socket
// (docs/ARCHITECTURE.md has the whole create sequence):
//
//	parent                                  init
//	initConfig ---------------------------> (berth without CAP_SYS_PTRACE, user namespace + bind:)
//	              <----------------------- ns-fds + init's mnt and user ns fds
//	                                        rootfs.Prepare (mounts, devices)
//	              <----------------------- mount-source  (each idmapped mount, in a user namespace)
//	fd + mount-source, or error ----------> mount it
//	              <----------------------- hooks         (only with prestart/createRuntime hooks)
//	run the hooks
//	hooks-done  --------------------------> createContainer hooks, pivot, ...
//	              <----------------------- ready (timings) | error (one-line message)
//
// exec's init sends only error; EOF (the socket is close-on-exec) means
// its execve worked.

// syncMsg is one JSON line between the parent and `berth init`.
type syncMsg struct {
	Type string `json:"type"`
	Msg  string `json:"msg,omitempty"`
	// Mount and Tree: which mount msgMountSource asks for, and whether
	// as its id-mapped tree or as an O_PATH fd of its source.
	Mount int  `json:"mount,omitempty"`
	Tree  bool `json:"tree,omitempty"`
}

const (
	msgHooks     = "hooks"
	msgHooksDone = "hooks-done"
	msgReady     = "ready"
	msgError     = "error"
	// msgMountSource: init (in a user namespace) asks for a mount's
	// source; the reply carries the fd (mountsource.go).
	msgMountSource = "mount-source"
	// msgNSFDs: init's namespace fds for berth (initSendsNSFDs).
	msgNSFDs = "ns-fds"
)
