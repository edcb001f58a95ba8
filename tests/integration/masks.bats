#!/usr/bin/env bats
# linux.maskedPaths and linux.readonlyPaths as the container sees them.
# (The first tests of masking are in mounts.bats.)

load helpers

# count_in_container PATH: sets output to the number of mounts at PATH in
# the container's mount table.
count_in_container() {
	set_args sh -c "awk -v p=$1 '\$2 == p' /proc/self/mounts | wc -l"
	run berth run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ] || fail "run: $output"
}

@test "a masked path listed twice (or spelled two ways) is masked by one mount" {
	mkdir "$BUNDLE/rootfs/secret-dir"
	echo secret >"$BUNDLE/rootfs/secret-file"
	update_config '.linux.maskedPaths += ["/secret-dir", "/secret-file", "/secret-dir/", "/secret-file", "/x/../secret-dir"]'
	count_in_container /secret-dir
	[ "$output" -eq 1 ] || fail "/secret-dir: $output mounts"
	count_in_container /secret-file
	[ "$output" -eq 1 ] || fail "/secret-file: $output mounts"
	set_args cat /secret-file
	run berth run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ]
	[ -z "$output" ] || fail "masked file reads: $output"
}

@test "a read-only path listed twice is bound once" {
	mkdir "$BUNDLE/rootfs/ro-dir"
	update_config '.linux.readonlyPaths += ["/ro-dir", "/ro-dir"]'
	count_in_container /ro-dir
	[ "$output" -eq 1 ] || fail "/ro-dir: $output mounts"
}
