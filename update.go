package main

// updateCommand is replaced by the real command when it lands.
var updateCommand = notImplemented("update", "update a container's resource limits")
