#!/usr/bin/env bats
# -h and --help: berth's and every command's, exit 0, usage on stdout,
# under the name berth was invoked by.

load helpers

COMMANDS=(checkpoint create delete events exec features kill list pause ps restore resume run spec start state update)

# help_names NAME ARGS...: `ARGS... -h` and `--help` exit 0 and the NAME
# section (line 2) starts "   NAME - ".
help_names() {
	local name=$1 arg
	shift
	for arg in -h --help; do
		run "$@" "$arg"
		[ "$status" -eq 0 ] || fail "$* $arg: status $status: $output"
		[ "${lines[0]}" = "NAME:" ] || fail "$* $arg: ${lines[0]}"
		[[ ${lines[1]} == "   $name - "* ]] || fail "$* $arg: ${lines[1]}"
	done
}

@test "-h and --help of berth and of every command exit 0 and name it, commands not implemented yet included" {
	help_names berth "$BERTH"
	[[ ${lines[1]} == *"Open Container Initiative runtime"* ]] || fail "${lines[1]}"
	local cmd
	for cmd in "${COMMANDS[@]}"; do
		help_names "berth $cmd" "$BERTH" "$cmd"
	done
}

@test "invoked as runc, the help names runc" {
	ln -s "$BERTH" "$TESTDIR/runc"
	help_names runc "$TESTDIR/runc"
	[[ ${lines[1]} == "   runc - Open Container Initiative runtime"* ]] || fail "${lines[1]}"
	help_names "runc exec" "$TESTDIR/runc" exec
	help_names "runc checkpoint" "$TESTDIR/runc" checkpoint
}
