package main

// psCommand is replaced by the real command when it lands.
var psCommand = notImplemented("ps", "list the processes of a container")
