package main

// checkpointCommand and restoreCommand wait for CRIU support.
var (
	checkpointCommand = notImplemented("checkpoint", "checkpoint a running container")
	restoreCommand    = notImplemented("restore", "restore a container from a checkpoint")
)
