#!/usr/bin/env bats
# OCI hooks: each type runs at its point of the lifecycle, in its namespaces,
# with the container's state JSON on stdin.

load helpers

setup() {
	berth_setup
	HOOKS=$TESTDIR/hooks
	mkdir -p "$HOOKS"
	# The host-side hook: a script only the host has (the test dir is not
	# in the rootfs). It saves its stdin, its mount namespace and its env,
	# and appends its name to $HOOKS/order.
	cat >"$TESTDIR/host-hook" <<-EOF
		#!/bin/sh
		name=\$1
		cat > "$HOOKS/\$name.json"
		readlink /proc/self/ns/mnt > "$HOOKS/\$name.mnt"
		echo "\$HOOKVAR" > "$HOOKS/\$name.env"
		echo "\$name" >> "$HOOKS/order"
	EOF
	chmod +x "$TESTDIR/host-hook"
	# The startContainer hook runs inside the container: its path exists only
	# in the rootfs, and it writes to /hookout, a bind mount of $HOOKS.
	mkdir -p "$BUNDLE/rootfs/hookbin"
	cat >"$BUNDLE/rootfs/hookbin/container-hook" <<-'EOF'
		#!/bin/sh
		name=$1
		cat > "/hookout/$name.json"
		readlink /proc/self/ns/mnt > "/hookout/$name.mnt"
		echo "$HOOKVAR" > "/hookout/$name.env"
		echo "$name" >> /hookout/order
	EOF
	chmod +x "$BUNDLE/rootfs/hookbin/container-hook"
	add_mount "{\"destination\": \"/hookout\", \"type\": \"bind\", \"source\": \"$HOOKS\", \"options\": [\"rbind\", \"rw\"]}"
	set_args sleep 1000
}

host_hook() { # host_hook NAME: a hook entry running $TESTDIR/host-hook NAME
	jq -n --arg p "$TESTDIR/host-hook" --arg n "$1" \
		'{path: $p, args: ["host-hook", $n], env: ["HOOKVAR=env-of-\($n)"]}'
}

all_hooks() {
	local cr cc sc ps pt
	cr=$(host_hook createRuntime)
	cc=$(host_hook createContainer)
	sc='{"path": "/hookbin/container-hook", "args": ["container-hook", "startContainer"], "env": ["HOOKVAR=env-of-startContainer"]}'
	ps=$(host_hook poststart)
	pt=$(host_hook poststop)
	UPDATE_CONFIG_ARGS=(--argjson cr "$cr" --argjson cc "$cc" --argjson sc "$sc" --argjson ps "$ps" --argjson pt "$pt")
	update_config '.hooks = {createRuntime: [$cr], createContainer: [$cc], startContainer: [$sc], poststart: [$ps], poststop: [$pt]}'
	UPDATE_CONFIG_ARGS=()
}

@test "createRuntime and createContainer hooks run during create, the others not yet" {
	all_hooks
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ -s "$HOOKS/createRuntime.json" ]
	[ -s "$HOOKS/createContainer.json" ]
	[ ! -e "$HOOKS/startContainer.json" ]
	[ ! -e "$HOOKS/poststart.json" ]
	[ ! -e "$HOOKS/poststop.json" ]
	[ "$(cat "$HOOKS/order")" = "$(printf '%s\n' createRuntime createContainer)" ]
}

@test "hooks get the container's state on stdin" {
	all_hooks
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	run berth start "$id"
	[ "$status" -eq 0 ]
	wait_for_file "$HOOKS/startContainer.json"
	for h in createRuntime createContainer startContainer poststart; do
		f=$HOOKS/$h.json
		[ "$(jq -r .id "$f")" = "$id" ] || fail "$h: id is $(jq -r .id "$f")"
		[ "$(jq -r .pid "$f")" = "$pid" ] || fail "$h: pid is $(jq -r .pid "$f"), want $pid"
		[ "$(jq -r .bundle "$f")" = "$BUNDLE" ] || fail "$h: bundle is $(jq -r .bundle "$f")"
		[[ $(jq -r .ociVersion "$f") =~ ^1\. ]] || fail "$h: no ociVersion"
	done
	[ "$(jq -r .status "$HOOKS/poststart.json")" = running ]
}

@test "hooks get the env given in config.json" {
	all_hooks
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_file "$HOOKS/startContainer.env"
	for h in createRuntime createContainer startContainer poststart; do
		[ "$(cat "$HOOKS/$h.env")" = "env-of-$h" ] || fail "$h: HOOKVAR is '$(cat "$HOOKS/$h.env")'"
	done
}

@test "hooks without env inherit berth's environment; createContainer and startContainer ones, which run in init, the process's" {
	all_hooks
	update_config '(.hooks[][] | select(.env)) |= del(.env) | .process.env += ["HOOKVAR=env-of-the-process"]'
	id=$(new_id)
	HOOKVAR=env-of-berth run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	wait_for_file "$HOOKS/startContainer.env"
	for h in createRuntime poststart; do
		[ "$(cat "$HOOKS/$h.env")" = env-of-berth ] || fail "$h: HOOKVAR is '$(cat "$HOOKS/$h.env")'"
	done
	for h in createContainer startContainer; do
		[ "$(cat "$HOOKS/$h.env")" = env-of-the-process ] || fail "$h: HOOKVAR is '$(cat "$HOOKS/$h.env")'"
	done
}

@test "a startContainer hook without env gets the process's env with HOME as the process gets it: set, or from the container's /etc/passwd" {
	cat >"$BUNDLE/rootfs/hookbin/env-hook" <<-'EOF'
		#!/bin/sh -u
		echo "ONE=$ONE HOME=$HOME" >/hookout/env
	EOF
	chmod +x "$BUNDLE/rootfs/hookbin/env-hook"
	replace_in_rootfs etc/passwd
	echo 'hookuser:x:1234:1234::/home/hookuser:/bin/sh' >>"$BUNDLE/rootfs/etc/passwd"
	local c uid env want
	# uid, process.env (JSON), the hook's line
	for c in '0|["ONE=two"]|ONE=two HOME=/root' \
		'0|["ONE=two","HOME="]|ONE=two HOME=/root' \
		'1234|["ONE=three"]|ONE=three HOME=/home/hookuser' \
		'4321|["ONE=four"]|ONE=four HOME=/' \
		'0|["ONE=five","HOME=/set"]|ONE=five HOME=/set'; do
		IFS='|' read -r uid env want <<<"$c"
		rm -f "$HOOKS/env"
		UPDATE_CONFIG_ARGS=(--argjson env "$env" --argjson uid "$uid")
		update_config '.process.args = ["true"] | .process.env = $env | .process.user.uid = $uid
			| .hooks = {startContainer: [{path: "/hookbin/env-hook"}]}'
		UPDATE_CONFIG_ARGS=()
		run berth run --bundle "$BUNDLE" "$(new_id)"
		[ "$status" -eq 0 ] || fail "uid $uid env $env: $output"
		[ "$(cat "$HOOKS/env")" = "$want" ] || fail "uid $uid env $env: hook saw '$(cat "$HOOKS/env")', want '$want'"
	done
}

@test "startContainer and poststart hooks run on start" {
	all_hooks
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	run berth start "$id"
	[ "$status" -eq 0 ]
	# poststart has run by the time start returns
	[ -s "$HOOKS/poststart.json" ]
	wait_for_file "$HOOKS/startContainer.json"
	[ ! -e "$HOOKS/poststop.json" ]
}

@test "poststop hooks run on delete, after the container stopped" {
	all_hooks
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_file "$HOOKS/startContainer.json"
	run berth kill "$id" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	[ ! -e "$HOOKS/poststop.json" ]
	run berth delete "$id"
	[ "$status" -eq 0 ]
	[ -s "$HOOKS/poststop.json" ]
	[ "$(jq -r .id "$HOOKS/poststop.json")" = "$id" ]
	# the hooks ran in lifecycle order (startContainer and poststart race)
	run cat "$HOOKS/order"
	[ "${#lines[@]}" -eq 5 ]
	[ "${lines[0]}" = createRuntime ]
	[ "${lines[1]}" = createContainer ]
	[ "$(printf '%s\n' "${lines[2]}" "${lines[3]}" | sort | tr '\n' ' ')" = "poststart startContainer " ]
	[ "${lines[4]}" = poststop ]
}

@test "poststop hooks run when run exits and deletes the container" {
	all_hooks
	set_args true
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ -s "$HOOKS/poststop.json" ]
	[ "$(jq -r .id "$HOOKS/poststop.json")" = "$id" ]
}

@test "createRuntime and poststart run in the runtime's namespaces, createContainer and startContainer in the container's" {
	all_hooks
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_file "$HOOKS/startContainer.mnt"
	pid=$(state_field "$id" pid)
	host_mnt=$(readlink /proc/self/ns/mnt)
	ctr_mnt=$(readlink "/proc/$pid/ns/mnt")
	[ "$host_mnt" != "$ctr_mnt" ]
	[ "$(cat "$HOOKS/createRuntime.mnt")" = "$host_mnt" ]
	[ "$(cat "$HOOKS/poststart.mnt")" = "$host_mnt" ]
	[ "$(cat "$HOOKS/createContainer.mnt")" = "$ctr_mnt" ]
	[ "$(cat "$HOOKS/startContainer.mnt")" = "$ctr_mnt" ]
}

@test "createContainer hooks start in the rootfs, so a relative path names the container's file" {
	UPDATE_CONFIG_ARGS=(--arg out "$HOOKS/cc.cwd")
	update_config '.hooks.createContainer = [{path: "/bin/sh", args: ["sh", "-c", ("pwd -P > " + $out + " && test -x ./hookbin/container-hook && echo found >> " + $out)]}]'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cat "$HOOKS/cc.cwd")" = "$(realpath "$BUNDLE/rootfs")"$'\n'found ] || fail "hook saw: $(cat "$HOOKS/cc.cwd")"
}

@test "a failing createRuntime hook fails create with its output and leaves nothing behind" {
	UPDATE_CONFIG_ARGS=(--argjson h '{"path": "/bin/sh", "args": ["sh", "-c", "echo hook-said-no >&2; exit 3"]}')
	update_config '.hooks = {createRuntime: [$h]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[[ $output == *hook-said-no* ]]
	run berth state "$id"
	[ "$status" -eq 1 ]
	assert_nothing_left "$id"
}

@test "a failing hook's error says error running, its kind, its index and its path, as runc words it" {
	UPDATE_CONFIG_ARGS=(--argjson ok '{"path": "/bin/true"}' --argjson h '{"path": "/bin/false"}')
	update_config '.hooks = {createRuntime: [$ok, $h]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "berth: error running createRuntime hook #1: /bin/false: exit status 1" ] || fail "${lines[0]}"
	assert_nothing_left "$id"
}

@test "a failing createRuntime hook stops the hooks after it" {
	cc=$(host_hook createContainer)
	UPDATE_CONFIG_ARGS=(--argjson h '{"path": "/bin/false"}' --argjson cc "$cc")
	update_config '.hooks = {createRuntime: [$h], createContainer: [$cc]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ ! -e "$HOOKS/createContainer.json" ]
	assert_nothing_left "$id"
}

@test "a hook that outlives its timeout fails create, is killed, and leaves nothing behind" {
	UPDATE_CONFIG_ARGS=(--argjson h "{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo \$\$ > $HOOKS/hook.pid; exec sleep 60\"], \"timeout\": 1}")
	update_config '.hooks = {createRuntime: [$h]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	start=$SECONDS
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ]
	[ $((SECONDS - start)) -lt 15 ]
	[[ $output == *time* ]] # "timeout" or "timed out"
	hook_pid=$(cat "$HOOKS/hook.pid")
	track_pid "$hook_pid"
	for _ in $(seq 40); do pid_alive "$hook_pid" || break; sleep 0.05; done
	! pid_alive "$hook_pid" || fail "the timed-out hook $hook_pid still runs"
	assert_nothing_left "$id"
}

@test "a failing poststart hook fails start naming the hook, stops the container, and the later ones do not run" {
	cat >"$TESTDIR/fail-hook" <<-'EOF2'
		#!/bin/sh
		echo "poststart refused" >&2
		exit 3
	EOF2
	chmod +x "$TESTDIR/fail-hook"
	UPDATE_CONFIG_ARGS=(--arg f "$TESTDIR/fail-hook" --argjson after "$(host_hook poststart)")
	update_config '.hooks = {poststart: [{path: $f}, $after]}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "create: $output"
	pid=$(state_field "$id" pid)
	run berth start "$id"
	assert_error
	[[ ${lines[0]} == "berth: start container $id: error running poststart hook #0: $TESTDIR/fail-hook: exit status 3: poststart refused" ]] || fail "${lines[0]}"
	wait_for_status "$id" stopped
	# Gone, or a zombie its reaper has not collected yet.
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
	[[ -z $st || $st == Z ]] || fail "init $pid still runs (state $st)"
	[ ! -e "$HOOKS/poststart.json" ] || fail "the hook after the failing one ran"
	run berth delete "$id"
	[ "$status" -eq 0 ] || fail "delete: $output"

	# Without a cgroup to kill through, init is stopped all the same.
	id=$(new_id)
	run_detached berth --cgroup-manager=disabled create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "create without a cgroup: $output"
	pid=$(state_field "$id" pid)
	run berth --cgroup-manager=disabled start "$id"
	assert_error
	wait_for_status "$id" stopped
	run berth --cgroup-manager=disabled delete "$id"
	[ "$status" -eq 0 ] || fail "delete: $output"
}
