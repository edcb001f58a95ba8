#!/usr/bin/env bats
# Rootless mode: berth run by an unprivileged user (made for this file,
# removed at the end) runs a `berth spec --rootless` bundle in a user
# namespace mapping that user to root, with no cgroup (none is delegated
# to it here), its state under $XDG_RUNTIME_DIR/berth; what such a
# container cannot have fails with one line and leaves nothing.

load helpers

setup_file() {
	[[ $(id -u) == 0 ]] || fail "the integration tests must run as root"
	if [[ -r /proc/sys/kernel/unprivileged_userns_clone ]] &&
		[[ $(cat /proc/sys/kernel/unprivileged_userns_clone) != 1 ]]; then
		skip "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone)"
	fi
	[[ $(cat /proc/sys/user/max_user_namespaces) -gt 0 ]] || skip "user.max_user_namespaces is 0"
	command -v setpriv >/dev/null || fail "no setpriv (util-linux)"
	command -v useradd >/dev/null || fail "no useradd (passwd)"

	export RL_USER="berthrl$$"
	useradd --no-create-home --shell /usr/sbin/nologin "$RL_USER"
	export RL_UID RL_GID
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	# Everything the user touches lives in a directory it can reach
	# (bats' own temp dirs are root's, mode 0700).
	export RL_DIR
	RL_DIR=$(mktemp -d /tmp/berth-rootless.XXXXXX)
	chmod 755 "$RL_DIR"
	cp "$BERTH" "$RL_DIR/berth"
	chmod 755 "$RL_DIR/berth"
	cp -a "$(cached_rootfs)" "$RL_DIR/rootfs"
	chmod -R a+rX "$RL_DIR/rootfs"
}

teardown_file() {
	[[ -n ${RL_USER:-} ]] || return 0
	userdel "$RL_USER" 2>/dev/null || true
	if [[ -n ${RL_DIR:-} && $RL_DIR == /tmp/berth-rootless.* ]]; then
		rm -rf "$RL_DIR"
	fi
}

setup() {
	TESTDIR=$BATS_TEST_TMPDIR
	: >"$TESTDIR/ids"
	# Per test: a bundle the user owns and an XDG_RUNTIME_DIR of its own.
	RL_BUNDLE=$RL_DIR/bundle$BATS_TEST_NUMBER
	RL_XDG=$RL_DIR/xdg$BATS_TEST_NUMBER
	mkdir -p "$RL_BUNDLE" "$RL_XDG"
	ln -s ../rootfs "$RL_BUNDLE/rootfs"
	chown "$RL_UID:$RL_GID" "$RL_BUNDLE" "$RL_XDG"
	chmod 700 "$RL_XDG"
	ROOT=$RL_XDG/berth
}

teardown() {
	[[ -n ${RL_XDG:-} ]] || return 0
	local problems=() id pid
	for id in $(rl list -q 2>/dev/null) $(cat "$TESTDIR/ids"); do
		[[ -e $RL_XDG/berth/$id ]] || continue
		rl delete --force "$id" >/dev/null 2>&1 || true
	done
	if [[ -d $RL_XDG/berth ]] && [[ -n $(ls -A "$RL_XDG/berth") ]]; then
		problems+=("state left in $RL_XDG/berth: $(ls -A "$RL_XDG/berth")")
	fi
	# Every live process of the user is this file's (the user is unique).
	for pid in $(user_procs | awk '{ print $1 }'); do
		problems+=("process of $RL_USER left behind: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) (pid $pid)")
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$RL_BUNDLE" "$RL_XDG"
	# Host cgroups a test made for the user (deepest first).
	if [[ -s $TESTDIR/cgdirs ]]; then
		local d
		while read -r d; do
			[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[[ ! -d $d ]] || problems+=("cgroup $d left behind")
		done <"$TESTDIR/cgdirs"
	fi
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf 'teardown: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# rl ARGS...: berth run by the test user in the test's bundle, with a
# minimal environment: XDG_RUNTIME_DIR is $RL_XDG, or $RL_XDG_ENV when
# that is set ("" counts as unset for berth).
rl() {
	(cd "$RL_BUNDLE" && timeout --kill-after=5 60 \
		setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$RL_DIR" XDG_RUNTIME_DIR="${RL_XDG_ENV-$RL_XDG}" \
		"$RL_DIR/berth" "$@")
}

# rl_spec [JQ]: `berth spec --rootless` as the user, made non-interactive,
# then rewritten through JQ.
rl_spec() {
	rm -f "$RL_BUNDLE/config.json"
	rl spec --rootless || fail "spec --rootless failed"
	local tmp=$RL_BUNDLE/config.json.tmp
	jq ".process.terminal = false | (${1:-.})" "$RL_BUNDLE/config.json" >"$tmp"
	mv "$tmp" "$RL_BUNDLE/config.json"
	chown "$RL_UID:$RL_GID" "$RL_BUNDLE/config.json"
}

rl_id() {
	local id="rl$$-${BATS_TEST_NUMBER}-$RANDOM"
	echo "$id" >>"$TESTDIR/ids"
	echo "$id"
}

# no_cgroup ID: no cgroup directory named ID exists in any hierarchy.
no_cgroup() {
	local left
	left=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 4 -type d -name "$1" 2>/dev/null)
	[[ -z $left ]] || fail "cgroup made for $1: $left"
}

# user_procs: live processes of the test user (zombies wait for the
# host's init to reap them: they hold nothing).
user_procs() {
	ps -u "$RL_UID" -o pid=,stat=,args= 2>/dev/null | awk '$2 !~ /^Z/'
}

# rl_nothing_left ID: no state, process or cgroup left for ID.
rl_nothing_left() {
	[[ ! -e $RL_XDG/berth/$1 ]] || fail "$RL_XDG/berth/$1 left behind"
	[[ -z $(user_procs) ]] || fail "processes of $RL_USER left: $(user_procs)"
	no_cgroup "$1"
}

@test "rootless: spec --rootless maps the caller's uid and gid to root, keeps the host network and binds /sys" {
	rl spec --rootless
	c=$RL_BUNDLE/config.json
	[ "$(jq -c '.linux.uidMappings' "$c")" = "[{\"containerID\":0,\"hostID\":$RL_UID,\"size\":1}]" ]
	[ "$(jq -c '.linux.gidMappings' "$c")" = "[{\"containerID\":0,\"hostID\":$RL_GID,\"size\":1}]" ]
	want='["pid","ipc","uts","mount","cgroup","user"]'
	# A cgroup namespace only on a cgroup2-only host, as runc's spec.
	[[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] || want='["pid","ipc","uts","mount","user"]'
	[ "$(jq -c '[.linux.namespaces[].type]' "$c")" = "$want" ]
	[ "$(jq -c '.mounts[] | select(.destination == "/sys") | [.type, .source, .options]' "$c")" = '["none","/sys",["rbind","rnosuid","rnoexec","rnodev","rro"]]' ]
	[ "$(jq '[.mounts[].options[]? | select(startswith("gid=") or startswith("uid="))] | length' "$c")" = 0 ]
	[ "$(jq '.linux.resources' "$c")" = null ]
}

# rl_cgroup: a host cgroup owned by the test user (a delegated one, as a
# systemd user session has), removed by the teardown; prints its path.
# The pids v1 hierarchy on a hybrid host, else the cgroup2 root.
rl_cgroup() {
	local base=/sys/fs/cgroup/pids
	[[ -d $base ]] || base=/sys/fs/cgroup
	local d=$base/berthrl$$-$BATS_TEST_NUMBER
	mkdir "$d" || return 1
	echo "$d" >>"$TESTDIR/cgdirs"
	chown "$RL_UID:$RL_GID" "$d" || return 1
	echo "$d"
}

@test "rootless: the spec's /sys is read-only all the way down: a host cgroup submount refuses writes with EROFS (CVE-2023-25809)" {
	cg=$(rl_cgroup)
	# The mechanics: outside, the user may make a sub-cgroup there, and
	# the /sys rbind brings that cgroup mount into the container.
	setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups mkdir "$cg/outside"
	rmdir "$cg/outside"
	rl_spec ".process.args = [\"sh\", \"-c\", \"grep -q ' /sys/fs/cgroup' /proc/self/mountinfo || exit 9; mkdir $cg/inside\"]"
	id=$(rl_id)
	run rl run "$id"
	echo "$output"
	[ "$status" -ne 9 ] || fail "no cgroup mount below /sys in the container"
	[ "$status" -eq 1 ]
	[[ $output == *"Read-only file system"* ]]
	[ ! -e "$cg/inside" ]
	rl_nothing_left "$id"
}

@test "rootless: run as an unprivileged user; root inside is the caller outside, setgroups denied" {
	rl_spec '.process.args = ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups"]'
	id=$(rl_id)
	run rl run "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[ "$(echo "${lines[2]}" | tr -s ' ' | sed 's/^ //')" = "0 $RL_UID 1" ]
	[ "$(echo "${lines[3]}" | tr -s ' ' | sed 's/^ //')" = "0 $RL_GID 1" ]
	[ "${lines[4]}" = deny ]
	rl_nothing_left "$id"

	rl_spec '.process.args = ["true"]'
	run rl run "$id"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "rootless: create, start, state, exec, kill and delete work as the user, with state under XDG_RUNTIME_DIR and no cgroup" {
	rl_spec '.process.args = ["sleep", "1000"]'
	id=$(rl_id)
	run_detached rl create "$id"
	[ "$status" -eq 0 ]
	[ -d "$RL_XDG/berth/$id" ]
	[ "$(stat -c %u "$RL_XDG/berth/$id")" = "$RL_UID" ]
	[ -p "$RL_XDG/berth/$id/exec.fifo" ]
	[ "$(rl state "$id" | jq -r .status)" = created ]
	[ "$(rl state "$id" | jq -r .owner)" = "$RL_USER" ]
	pid=$(rl state "$id" | jq -r .pid)
	# init runs as the user on the host.
	[ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$pid/status")" = "$RL_UID" ]
	no_cgroup "$id"
	# exec into the created container (its init still non-dumpable).
	run rl exec "$id" sh -c 'id -u'
	echo "exec before start: $output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = 0 ]

	run rl start "$id"
	[ "$status" -eq 0 ]
	[ "$(rl state "$id" | jq -r .status)" = running ]
	[ "$(rl list -q)" = "$id" ]

	run rl exec "$id" sh -c 'id -u; cat /proc/self/uid_map'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 $RL_UID 1" ]
	run rl exec "$id" sh -c 'exit 7'
	[ "$status" -eq 7 ]

	# Operations that need a cgroup say so.
	run rl ps "$id"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"no cgroup"* ]]

	run rl kill "$id" KILL
	[ "$status" -eq 0 ]
	for _ in $(seq 100); do
		[ "$(rl state "$id" | jq -r .status)" = stopped ] && break
		sleep 0.05
	done
	[ "$(rl state "$id" | jq -r .status)" = stopped ]
	run rl delete "$id"
	[ "$status" -eq 0 ]
	rl_nothing_left "$id"
	[ -z "$(rl list -q)" ]
}

@test "rootless: init runs from a sealed memfd copy of berth that the container cannot write (CVE-2019-5736)" {
	rl_spec '.process.args = ["true"]'
	id=$(rl_id)
	before=$(sha256sum <"$RL_DIR/berth")
	run_detached rl create "$id"
	[ "$status" -eq 0 ]
	pid=$(rl state "$id" | jq -r .pid)
	# The user cannot clone mounts, so no read-only mount of the binary:
	# init's executable is the memfd.
	[[ $(readlink "/proc/$pid/exe") == "/memfd:berth (deleted)" ]]
	# Mechanics: the user owns the process, so only the seal (and the
	# running text) stops a write through /proc/<pid>/exe.
	run setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups sh -c "printf x >>/proc/$pid/exe"
	[ "$status" -ne 0 ]
	run setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups sh -c "exec 3</proc/$pid/exe && printf x >/proc/self/fd/3"
	[ "$status" -ne 0 ]
	[ "$(sha256sum <"$RL_DIR/berth")" = "$before" ]
	rl delete --force "$id"
	rl_nothing_left "$id"
}

@test "rootless: --root defaults to \$XDG_RUNTIME_DIR/berth, and without a usable one the error says so" {
	rl_spec '.process.args = ["true"]'
	RL_XDG_ENV=
	run rl list
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"XDG_RUNTIME_DIR is not set"* ]]
	id=$(rl_id)
	run rl run "$id"
	[ "$status" -eq 1 ]
	[[ $output == *"XDG_RUNTIME_DIR is not set"* ]]

	# A directory the user cannot write.
	RL_XDG_ENV=/run
	run rl run "$id"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"XDG_RUNTIME_DIR /run is not a directory uid $RL_UID can write"* ]]
	unset RL_XDG_ENV

	# The default root not made yet is an empty list (a --root that does
	# not exist is an error: list.bats).
	[ ! -e "$RL_XDG/berth" ] || fail "$RL_XDG/berth exists before any container"
	run rl list -q
	[ "$status" -eq 0 ] || fail "list of a missing default root: $output"
	[ -z "$output" ]

	# An explicit --root wins.
	mkdir "$RL_DIR/own-root$BATS_TEST_NUMBER"
	chown "$RL_UID" "$RL_DIR/own-root$BATS_TEST_NUMBER"
	run rl --root "$RL_DIR/own-root$BATS_TEST_NUMBER" run "$id"
	[ "$status" -eq 0 ]
	rm -rf "$RL_DIR/own-root$BATS_TEST_NUMBER"
	rl_nothing_left "$id"
}

@test "rootless: ids beyond the caller's own are mapped through newuidmap and newgidmap (/etc/subuid)" {
	command -v newuidmap >/dev/null || fail "no newuidmap (package uidmap)"
	sub=$(awk -F: -v u="$RL_USER" '$1 == u { print $2 }' /etc/subuid)
	subg=$(awk -F: -v u="$RL_USER" '$1 == u { print $2 }' /etc/subgid)
	[[ -n $sub && -n $subg ]] || fail "useradd gave $RL_USER no subordinate ids"
	rl_spec ".linux.uidMappings += [{containerID: 1, hostID: $sub, size: 1000}]
		| .linux.gidMappings += [{containerID: 1, hostID: $subg, size: 1000}]
		| .process.args = [\"sh\", \"-c\", \"cat /proc/self/uid_map /proc/self/gid_map\"]"
	id=$(rl_id)
	run rl run "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tr -s ' ' <<<"$output" | sed 's/^ //')" = "$(printf '0 %s 1\n1 %s 1000\n0 %s 1\n1 %s 1000' "$RL_UID" "$sub" "$RL_GID" "$subg")" ]
	rl_nothing_left "$id"
}

@test "rootless: root mapped to a subordinate id: exec.fifo writable by all, but the state dir closed to others" {
	command -v newuidmap >/dev/null || fail "no newuidmap (package uidmap)"
	sub=$(awk -F: -v u="$RL_USER" '$1 == u { print $2 }' /etc/subuid)
	subg=$(awk -F: -v u="$RL_USER" '$1 == u { print $2 }' /etc/subgid)
	[[ -n $sub && -n $subg ]] || fail "useradd gave $RL_USER no subordinate ids"
	# Container root is a subordinate id the user cannot chown the fifo to.
	rl_spec ".linux.uidMappings = [{containerID: 0, hostID: $sub, size: 1000}]
		| .linux.gidMappings = [{containerID: 0, hostID: $subg, size: 1000}]
		| .process.args = [\"sh\", \"-c\", \"echo started\"]"
	id=$(rl_id)
	run_detached rl create "$id"
	[ "$status" -eq 0 ] || fail "create: $output"
	[ "$(stat -c %a "$RL_XDG/berth/$id/exec.fifo")" = 622 ]
	[ "$(stat -c %a "$RL_XDG/berth/$id")" = 700 ] || fail "state dir mode $(stat -c %a "$RL_XDG/berth/$id")"
	run rl start "$id"
	[ "$status" -eq 0 ] || fail "start: $output"
	run rl delete --force "$id"
	[ "$status" -eq 0 ]
	rl_nothing_left "$id"
}

@test "rootless: what a rootless container cannot have fails with one line naming the field, exit 1, nothing left" {
	# CONFIG-CHANGE@@EXPECTED-MESSAGE (a glob pattern).
	local -a cases=(
		'.linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}]@@*linux.uidMappings: */newuidmap *not allowed'
		'.linux.devices = [{path: "/dev/berth-no-such-node", type: "c", major: 1, minor: 3}]@@linux.devices\[0\]: bind device /dev/berth-no-such-node'
		'.mounts += [{destination: "/sys", type: "sysfs", source: "sysfs"}]@@mounts\[6\]: mount sysfs on /sys: operation not permitted'
		'.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)@@linux.namespaces: berth runs as uid'
		'.linux.resources = {memory: {limit: 100000000}}@@linux.resources.memory: cannot set the limit: rootless container has no cgroup'
	)
	local c
	for c in "${cases[@]}"; do
		rl_spec "(${c%%@@*}) | .process.args = [\"true\"]"
		id=$(rl_id)
		run rl run "$id"
		echo "case ${c%%@@*}: $output"
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		pat=${c#*@@}
		[[ $output == "berth: "$pat* ]]
		rl_nothing_left "$id"
	done
}

@test "rootless: device rules are ignored without a cgroup, as runc does" {
	rl_spec '.linux.resources = {devices: [{allow: false, access: "rwm"}]} | .process.args = ["sh", "-c", "echo ok >/dev/null && echo done"]'
	id=$(rl_id)
	run rl run "$id"
	[ "$status" -eq 0 ]
	[ "$output" = done ]
	rl_nothing_left "$id"
}

@test "rootless: --rootless true as root runs a spec --rootless bundle in a user namespace" {
	# As root, spec --rootless maps root to root; the container still gets
	# its own user namespace.
	"$BERTH" spec --rootless --bundle "$RL_BUNDLE"
	jq '.process.terminal = false | .process.args = ["sh", "-c", "cat /proc/self/uid_map"]' \
		"$RL_BUNDLE/config.json" >"$RL_BUNDLE/c.json"
	mv "$RL_BUNDLE/c.json" "$RL_BUNDLE/config.json"
	id=$(rl_id)
	run timeout 60 "$BERTH" --root "$RL_XDG/rootstate" --rootless true run --bundle "$RL_BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tr -s ' ' <<<"$output" | sed 's/^ //')" = "0 0 1" ]
	[ ! -e "$RL_XDG/rootstate/$id" ]
	no_cgroup "$id"
}

@test "rootless: --rootless takes only true, false or auto" {
	run "$BERTH" --rootless maybe list
	[ "$status" -eq 1 ]
	[ "$output" = 'berth: --rootless: "maybe" is not true, false or auto' ]
}
