#!/usr/bin/env bats
# `berth features`: what this runtime supports, as JSON.

load helpers

@test "features prints JSON with the OCI version range and every hook" {
	run berth features
	[ "$status" -eq 0 ]
	jq -e . >/dev/null <<<"$output"
	[[ $(jq -r .ociVersionMin <<<"$output") =~ ^1\.[0-9]+\.[0-9]+ ]]
	[[ $(jq -r .ociVersionMax <<<"$output") =~ ^1\.[0-9]+\.[0-9]+ ]]
	for h in createRuntime createContainer startContainer poststart poststop; do
		jq -e --arg h "$h" '.hooks | index($h)' >/dev/null <<<"$output"
	done
}

@test "features lists the namespaces berth creates" {
	run berth features
	[ "$status" -eq 0 ]
	for ns in pid network ipc uts mount user cgroup; do
		jq -e --arg ns "$ns" '.linux.namespaces | index($ns)' >/dev/null <<<"$output"
	done
}

@test "features lists SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as supported when the kernel takes it, whatever libseccomp's API level" {
	local major minor
	IFS=. read -r major minor _ < <(uname -r)
	if ((major < 5 || (major == 5 && minor < 19))); then
		skip "kernel $(uname -r) has no SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (5.19)"
	fi
	run berth features
	[ "$status" -eq 0 ]
	jq -e '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")' >/dev/null <<<"$output" ||
		fail "supportedFlags: $(jq -c .linux.seccomp.supportedFlags <<<"$output")"
}
