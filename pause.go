package main

// pauseCommand is replaced by the real command when it lands.
var pauseCommand = notImplemented("pause", "pause every process of a container")
