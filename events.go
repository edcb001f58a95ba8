package main

// eventsCommand is replaced by the real command when it lands.
var eventsCommand = notImplemented("events", "show container events and stats")
