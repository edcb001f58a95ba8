package main

import (
	"os"
	"path/filepath"
)

// progName is the name berth was invoked by (argv[0]'s base name), which
// its help shows as urfave/cli apps do. Installed as "runc", berth answers
// to that name where clients parse it: `runc --version` starts "runc
// version X.Y.Z" (go-runc's Version(), Docker's info), `runc -h` names
// runc. Any other name gets berth's own version line.
func progName() string {
	if len(os.Args) == 0 || os.Args[0] == "" {
		return "berth"
	}
	return filepath.Base(os.Args[0])
}

// versionName is the first word of the version line.
func versionName() string {
	if progName() == "runc" {
		return "runc"
	}
	return "berth"
}
