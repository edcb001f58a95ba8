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
