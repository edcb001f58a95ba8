#!/usr/bin/env bats
# linux.netDevices: host links moved into the container's network
# namespace, renamed, with their permanent global addresses, and up. This
# kernel has no dummy driver, so each test makes a veth pair (bth<n>a on
# the host side to move, bth<n>b its peer) and removes what is left.

load helpers

setup() {
	berth_setup
	command -v ip >/dev/null || fail "no ip(8): make deps installs iproute2"
	n=$((RANDOM % 10000))
	host_link=bth${n}a
	peer=bth${n}b
	ip link add "$host_link" type veth peer name "$peer" || skip "this kernel cannot make a veth pair (no veth driver)"
	netns=
}

teardown() {
	# Whichever end is still on the host takes the pair with it; a link
	# moved into a namespace goes with the namespace.
	ip link del "$peer" 2>/dev/null || true
	ip link del "$host_link" 2>/dev/null || true
	[[ -z $netns ]] || ip netns del "$netns"
	berth_teardown
}

# with_netns: the container joins a network namespace the test made.
with_netns() {
	netns=bth-netdev-$n-$$
	ip netns add "$netns"
	update_config '(.linux.namespaces[] | select(.type == "network")) .path = "/var/run/netns/'"$netns"'"'
}

@test "linux.netDevices moves a host link into the container's new network namespace: renamed, up, same MTU and MAC, with its permanent global addresses only" {
	ip addr add 192.0.2.5/24 dev "$host_link"
	ip -6 addr add 2001:db8::5/64 dev "$host_link" nodad
	ip addr add 198.51.100.9/32 scope link dev "$host_link"
	ip link set dev "$host_link" mtu 1400 address 02:42:ac:11:00:07
	update_config '.linux.netDevices = {"'"$host_link"'": {name: "eth7"}}'
	set_args sh -c 'cat /sys/class/net/eth7/flags /sys/class/net/eth7/mtu /sys/class/net/eth7/address; ip -o addr show dev eth7'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	(( ${lines[0]} & 1 )) || fail "eth7 flags ${lines[0]}: not up"
	[ "${lines[1]}" = 1400 ] || fail "mtu ${lines[1]}, want the host's 1400"
	[ "${lines[2]}" = 02:42:ac:11:00:07 ] || fail "address ${lines[2]}, want the host's"
	[[ $output == *"inet 192.0.2.5/24 "* ]] || fail "global IPv4 address lost: $output"
	[[ $output == *"inet6 2001:db8::5/64 "* ]] || fail "global IPv6 address lost: $output"
	[[ $output != *198.51.100.9* ]] || fail "a link-scope address came along: $output"
	run ip link show "$host_link"
	[ "$status" -ne 0 ] || fail "$host_link is still on the host"
}

@test "linux.netDevices keeps the host name when no name is given, also with the Go init" {
	update_config '.linux.netDevices = {"'"$host_link"'": {}} | .hooks.createContainer = [{path: "/bin/true"}]'
	set_args cat /sys/class/net/"$host_link"/flags
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	(( output & 1 )) || fail "$host_link flags $output: not up"
}

@test "linux.netDevices with a %d name lets the kernel number the link in the container" {
	update_config '.linux.netDevices = {"'"$host_link"'": {name: "net%d"}}'
	set_args ls /sys/class/net
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *net0* ]] || fail "no net0 in the container: $output"
	[[ $output != *bth* ]] || fail "a placeholder name is left: $output"
}

@test "linux.netDevices into a joined network namespace: the link stays there after delete" {
	with_netns
	update_config '.linux.netDevices = {"'"$host_link"'": {name: "eth3"}}'
	set_args true
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	run ip netns exec "$netns" cat /sys/class/net/eth3/flags
	[ "$status" -eq 0 ] || fail "eth3 is not in the joined namespace after the container went: $output"
}

@test "linux.netDevices naming a link the joined namespace already has fails create and leaves the link on the host" {
	with_netns
	ip netns exec "$netns" ip link add eth3 type veth peer name eth4
	update_config '.linux.netDevices = {"'"$host_link"'": {name: "eth3"}}'
	id=$(new_id)
	run berth create --bundle "$BUNDLE" "$id"
	assert_error
	[[ $output == *"linux.netDevices[$host_link]: a link named \"eth3\" already exists in the container's network namespace"* ]] || fail "$output"
	ip link show "$host_link" >/dev/null || fail "$host_link left the host"
	[ ! -e "$ROOT/$id" ] || fail "state left behind"
}

@test "linux.netDevices naming a host link that does not exist fails create, naming it" {
	update_config '.linux.netDevices = {"nosuchlink0": {}}'
	id=$(new_id)
	run berth create --bundle "$BUNDLE" "$id"
	assert_error
	[[ $output == *'linux.netDevices[nosuchlink0]: no link "nosuchlink0"'* ]] || fail "$output"
	[ ! -e "$ROOT/$id" ] || fail "state left behind"
}

@test "linux.netDevices is refused without a network namespace and with bad names, before anything moves" {
	update_config '.linux.namespaces |= map(select(.type != "network")) | .linux.netDevices = {"'"$host_link"'": {}}'
	run berth create --bundle "$BUNDLE" "$(new_id)"
	assert_error
	[[ $output == *'linux.netDevices: needs a network namespace'* ]] || fail "$output"
	update_config '.linux.namespaces += [{type: "network"}] | .linux.netDevices = {"'"$host_link"'": {name: "a/b"}}'
	run berth create --bundle "$BUNDLE" "$(new_id)"
	assert_error
	[[ $output == *"linux.netDevices[$host_link].name: \"a/b\": contains '/'"* ]] || fail "$output"
	update_config '.linux.netDevices = {"'"$host_link"'": {name: "averyveryverylongname"}}'
	run berth create --bundle "$BUNDLE" "$(new_id)"
	assert_error
	[[ $output == *"longer than 15 bytes"* ]] || fail "$output"
	update_config '.linux.netDevices = {"'"$host_link"'": {name: "lo"}}'
	run berth create --bundle "$BUNDLE" "$(new_id)"
	assert_error
	[[ $output == *'"lo" is the loopback link'* ]] || fail "$output"
	ip link show "$host_link" >/dev/null || fail "$host_link left the host"
}

@test "features reports linux.netDevices as enabled" {
	run berth features
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(jq -r .linux.netDevices.enabled <<<"$output")" = true ] || fail "$output"
}
