package main

// resumeCommand is replaced by the real command when it lands.
var resumeCommand = notImplemented("resume", "resume a paused container")
