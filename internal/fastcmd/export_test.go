package fastcmd

// For the pin tests in package fastcmd_test, which import libcontainer
// (and libcontainer imports this package).
type Command = command

var ParseArgs = parseArgs
