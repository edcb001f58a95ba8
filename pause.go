package main

import (
	"github.com/urfave/cli/v2"

	"github.com/berth-runtime/berth/libcontainer"
)

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "pause (freeze) every process of a running container",
	ArgsUsage: "<container-id>",
	Action:    lockedAction((*libcontainer.Container).Pause),
}

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "resume (thaw) every process of a paused container",
	ArgsUsage: "<container-id>",
	Action:    lockedAction((*libcontainer.Container).Resume),
}
