#!/usr/bin/env bats
# `berth --version`.

load helpers

@test "--version names berth, its version, commit, spec and libseccomp versions" {
	run "$BERTH" --version
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^berth\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]]
	printf '%s\n' "${lines[@]}" | grep -Eq '^commit: [0-9a-zA-Z.+-]+$'
	printf '%s\n' "${lines[@]}" | grep -Eq '^spec: 1\.[0-9]+\.[0-9]+'
	printf '%s\n' "${lines[@]}" | grep -Eq '^libseccomp: [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--version reports the version in the VERSION file" {
	run "$BERTH" --version
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "berth version $(cat "$REPO/VERSION")" ]
}

@test "--version reports the libseccomp the binary runs with" {
	want=$(pkg-config --modversion libseccomp)
	run "$BERTH" --version
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep -Fxq "libseccomp: $want"
}

@test "invoked as runc, --version gives the lines go-runc and Docker parse, and says the runtime is berth" {
	ln -s "$BERTH" "$TESTDIR/runc"
	local flag
	for flag in --version -v; do
		run "$TESTDIR/runc" "$flag"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "runc version $(cat "$REPO/VERSION")" ] || fail "$flag: ${lines[0]}"
		[[ ${lines[1]} =~ ^commit:\ [0-9a-zA-Z.+-]+$ ]] || fail "$flag: ${lines[1]}"
		[[ ${lines[2]} =~ ^spec:\ 1\.[0-9]+\.[0-9]+ ]] || fail "$flag: ${lines[2]}"
		printf '%s\n' "${lines[@]}" | grep -Fxq "runtime: berth $(cat "$REPO/VERSION")" || fail "$flag: $output"
	done
	# Any other name keeps berth's own line.
	ln -s "$BERTH" "$TESTDIR/berth-dev"
	run "$TESTDIR/berth-dev" --version
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "berth version "* ]] || fail "${lines[0]}"
}
