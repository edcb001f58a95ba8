#!/usr/bin/env bats
# The Kubernetes path: containerd's CRI plugin with a runtime handler
# "berth" (runtime_type io.containerd.runc.v2, options BinaryName = berth),
# driven with crictl as the kubelet would drive it. One private containerd
# for the file (scripts/clients/containerd.sh), the sandbox image made
# locally ($PAUSE), no CNI: pods use the host's network. crictl is built
# from the Go module proxy once (scripts/clients/crictl.sh, a few minutes
# the first time) and cached.
#
# Each test's pods get the cgroup parent /$CGPARENT (the CRI would
# otherwise use /k8s.io, shared with any other containerd on the host), and
# the teardown removes every pod and container (the daemon is ours alone).

load clients

setup_file() {
	clients_require_root
	# crictl first: without it nothing here can run.
	local out
	if ! out=$("$REPO/scripts/clients/crictl.sh" 2>&1); then
		CRICTL_ERROR=$(tail -n 5 <<<"$out" | tr '\n' ' ')
		export CRICTL_ERROR
		return 0
	fi
	CRICTL=$(tail -n 1 <<<"$out")
	export CRICTL
	RUN_DIRS_BEFORE=$(ls -d /run/containerd /run/containerd/s 2>/dev/null | tr '\n' ' ')
	export RUN_DIRS_BEFORE
	clients_start_containerd
	timeout 60 ctr --address "$CTD_DIR/containerd.sock" -n k8s.io images import "$CTD_DIR/images.tar" >&2
	CGPARENT=berth-test-cri-$$
	export CGPARENT
	mkdir -p "$CTD_DIR/podlogs"
}

teardown_file() {
	local rc=0 d
	[[ -n ${CGPARENT:-} ]] && { rmdir_cgroup "$CGPARENT" || rc=1; }
	clients_stop_containerd || rc=1
	for d in /run/containerd/s /run/containerd; do
		[[ " ${RUN_DIRS_BEFORE:-} " == *" $d "* ]] || rmdir "$d" 2>/dev/null || true
	done
	return $rc
}

setup() {
	clients_require_root
	if [[ -n ${CRICTL_ERROR:-} ]]; then
		skip "crictl could not be built from the Go module proxy here: $CRICTL_ERROR"
	fi
	TESTDIR=$BATS_TEST_TMPDIR
}

teardown() {
	[[ -n ${CRICTL:-} && -n ${CTD_DIR:-} ]] || return 0
	local problems=() id left
	for id in $(cri ps -a -q 2>/dev/null); do
		problems+=("container left: $id")
		cri rm -f "$id" >/dev/null 2>&1 || true
	done
	for id in $(cri pods -q 2>/dev/null); do
		problems+=("pod left: $id")
		cri stopp "$id" >/dev/null 2>&1 || true
		cri rmp -f "$id" >/dev/null 2>&1 || true
	done
	left=$(ls -A "$CTD_DIR/berth-root/k8s.io" 2>/dev/null)
	[[ -z $left ]] || problems+=("berth state left in $CTD_DIR/berth-root/k8s.io: $left")
	left=$(for h in "$CGROUP_MNT"/*/"$CGPARENT"; do [[ -d $h ]] && find "$h" -mindepth 1 -type d; done)
	[[ -z $left ]] || problems+=("cgroups left: $left")
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf 'teardown: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# cri ARGS...: crictl on the private daemon, no config file, bounded.
cri() {
	timeout --kill-after=5 90 "$CRICTL" --config /dev/null \
		--runtime-endpoint "unix://$CTD_DIR/containerd.sock" \
		--image-endpoint "unix://$CTD_DIR/containerd.sock" --timeout 60s "$@"
}

# pod_config NAME [JQ-EXPR]: writes $TESTDIR/NAME.pod.json, a host-network
# pod (no CNI here) in the cgroup /$CGPARENT, and prints its path.
pod_config() {
	local f=$TESTDIR/$1.pod.json
	jq -n --arg name "$1" --arg uid "$1-$$-$BATS_TEST_NUMBER" \
		--arg logs "$CTD_DIR/podlogs/$1" --arg cg "/$CGPARENT" '{
		metadata: {name: $name, namespace: "berth-test", uid: $uid, attempt: 0},
		log_directory: $logs,
		linux: {
			cgroup_parent: $cg,
			security_context: {namespace_options: {network: 2}}
		}
	}' | jq "${2:-.}" >"$f"
	echo "$f"
}

# ctr_config NAME ARGS...: writes $TESTDIR/NAME.ctr.json, a container of
# $IMG running ARGS, and prints its path.
ctr_config() {
	local name=$1 f=$TESTDIR/$1.ctr.json a args
	shift
	args=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -s -c .)
	jq -n --arg name "$name" --arg img "$IMG" --argjson args "$args" '{
		metadata: {name: $name, attempt: 0},
		image: {image: $img},
		command: $args,
		log_path: ($name + ".log"),
		linux: {}
	}' >"$f"
	echo "$f"
}

# berth_status ID: the container's status as berth reports it.
berth_status() {
	timeout 30 "$BERTH" --root "$CTD_DIR/berth-root/k8s.io" state "$1" | jq -r .status
}

@test "cri: a pod sandbox runs on berth with runtime handler berth (runp, pods, stopp, rmp)" {
	local pcfg pod
	pcfg=$(pod_config pod1)
	run cri runp --runtime berth "$pcfg"
	[[ $status == 0 ]] || fail "crictl runp: $output"
	pod=${lines[-1]}
	run cri pods --id "$pod" -o json
	[[ $(jq -r '.items[0].state' <<<"$output") == SANDBOX_READY ]] || fail "pods: $output"
	[[ $(jq -r '.items[0].runtimeHandler' <<<"$output") == berth ]] || fail "pods: $output"
	# The sandbox (pause) container is berth's, under the handler's Root.
	[[ $(berth_status "$pod") == running ]] || fail "berth does not run the sandbox $pod"
	local pid
	pid=$(timeout 30 "$BERTH" --root "$CTD_DIR/berth-root/k8s.io" state "$pod" | jq -r .pid)
	[[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == "sleep 86400 " ]] || fail "sandbox process: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	grep -q ":/$CGPARENT/$pod\$" "/proc/$pid/cgroup" || fail "sandbox cgroup: $(cat "/proc/$pid/cgroup")"
	# Host network: the same network namespace as ours.
	[[ $(readlink "/proc/$pid/ns/net") == "$(readlink /proc/$$/ns/net)" ]] ||
		fail "sandbox net ns $(readlink "/proc/$pid/ns/net"), ours $(readlink /proc/$$/ns/net)"

	run cri stopp "$pod"
	[[ $status == 0 ]] || fail "crictl stopp: $output"
	run cri pods --id "$pod" -o json
	[[ $(jq -r '.items[0].state' <<<"$output") == SANDBOX_NOTREADY ]] || fail "pods after stopp: $output"
	run cri rmp "$pod"
	[[ $status == 0 ]] || fail "crictl rmp: $output"
	run cri pods -q
	[[ -z $output ]] || fail "pods after rmp: $output"
	[[ ! -e $CTD_DIR/berth-root/k8s.io/$pod ]] || fail "berth state left for $pod"
}

@test "cri: a container in a berth pod: create, start, exec, logs, stop, rm" {
	local pcfg ccfg pod ctr
	pcfg=$(pod_config pod2)
	ccfg=$(ctr_config app sh -c 'echo started; trap "echo got TERM; exit 0" TERM; while :; do sleep 0.2; done')
	run cri runp --runtime berth "$pcfg"
	[[ $status == 0 ]] || fail "crictl runp: $output"
	pod=${lines[-1]}
	run cri create "$pod" "$ccfg" "$pcfg"
	[[ $status == 0 ]] || fail "crictl create: $output"
	ctr=${lines[-1]}
	# (CreateContainer only records the container: the CRI makes the task,
	# berth create, in StartContainer.)
	run cri start "$ctr"
	[[ $status == 0 ]] || fail "crictl start: $output"
	run cri inspect "$ctr"
	[[ $(jq -r .status.state <<<"$output") == CONTAINER_RUNNING ]] || fail "inspect: $output"
	[[ $(berth_status "$ctr") == running ]]

	# ExecSync (-s) and the streaming exec (through the CRI's stream
	# server on 127.0.0.1).
	run cri exec -s "$ctr" sh -c 'echo sync-exec; id -u'
	[[ $status == 0 ]] || fail "exec -s: $output"
	[[ $output == *sync-exec*0* ]] || fail "exec -s: $output"
	run cri exec -s "$ctr" sh -c 'exit 4'
	[[ $status != 0 && $output == *"exited with 4"* ]] || fail "exec -s of exit 4 ($status): $output"
	run cri exec "$ctr" sh -c 'echo stream-exec; cat /proc/1/cmdline | tr "\0" " "'
	[[ $status == 0 ]] || fail "exec: $output"
	[[ $output == *stream-exec* ]] || fail "exec: $output"
	# The pod shares one pid namespace: its pid 1 is the sandbox's pause.
	[[ $output == *"sleep 86400"* ]] || fail "exec: pid 1 is not the sandbox's: $output"

	run cri logs "$ctr"
	[[ $output == *started* ]] || fail "logs: $output"

	# stop: SIGTERM (the image's default stop signal), then the grace period.
	run cri stop --timeout 20 "$ctr"
	[[ $status == 0 ]] || fail "crictl stop: $output"
	run cri inspect "$ctr"
	[[ $(jq -r .status.state <<<"$output") == CONTAINER_EXITED ]] || fail "inspect after stop: $output"
	[[ $(jq -r .status.exitCode <<<"$output") == 0 ]] || fail "exit code after stop: $output"
	run cri logs "$ctr"
	[[ $output == *"got TERM"* ]] || fail "logs after stop: $output"

	run cri rm "$ctr"
	[[ $status == 0 ]] || fail "crictl rm: $output"
	[[ ! -e $CTD_DIR/berth-root/k8s.io/$ctr ]] || fail "berth state left for $ctr"
	[[ -z $(cgroup_dirs "$CGPARENT/$ctr") ]] || fail "cgroups left: $(cgroup_dirs "$CGPARENT/$ctr")"
	run cri stopp "$pod"
	[[ $status == 0 ]] || fail "crictl stopp: $output"
	run cri rmp "$pod"
	[[ $status == 0 ]] || fail "crictl rmp: $output"
}

@test "cri: berth's error for a container whose args[0] is missing reaches crictl" {
	local pcfg ccfg pod ctr
	pcfg=$(pod_config pod3)
	ccfg=$(ctr_config broken /no/such/binary)
	run cri runp --runtime berth "$pcfg"
	[[ $status == 0 ]] || fail "crictl runp: $output"
	pod=${lines[-1]}
	run cri create "$pod" "$ccfg" "$pcfg"
	[[ $status == 0 ]] || fail "crictl create: $output"
	ctr=${lines[-1]}
	# containerd's CRI creates the task (berth create) on start.
	run cri start "$ctr"
	[[ $status != 0 ]] || fail "crictl start of a missing binary succeeded: $output"
	# crictl prints the error twice, once quoted (klog), once as is.
	[[ $output == *'OCI runtime create failed: exec: \"/no/such/binary\": no such file or directory'* ||
		$output == *'OCI runtime create failed: exec: "/no/such/binary": no such file or directory'* ]] ||
		fail "crictl start: $output"
	run cri rm "$ctr"
	[[ $status == 0 ]] || fail "crictl rm: $output"
	run cri stopp "$pod"
	[[ $status == 0 ]] || fail "crictl stopp: $output"
	run cri rmp "$pod"
	[[ $status == 0 ]] || fail "crictl rmp: $output"
}
