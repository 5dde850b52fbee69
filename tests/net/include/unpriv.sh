# shellcheck shell=sh
# tests/net/include/unpriv.sh - what the run_*.sh scripts (and
# include/fwd.sh) share: arcnat as an unprivileged user, uid/gid 65534
# without supplementary groups or capabilities, in a private mount
# namespace where a 0666 TUN node of the test's own is bind-mounted over
# /dev/net/tun (the host's node is 0600 and is never changed); and the
# veth between the namespace arcnat runs in and its peer's. Source it
# after lib.sh; it only defines functions, UNPRIV_SETPRIV and UNPRIV_MOUNT.

# the switch to uid/gid 65534, for a command line that cannot call unpriv
# (word-split on purpose: setpriv and its options)
UNPRIV_SETPRIV="setpriv --reuid=65534 --regid=65534 --clear-groups"

# UNPRIV_MOUNT, the script that runs in the private mount namespace (sh -c
# "$UNPRIV_MOUNT" sh TUN-NODE RESOLV-OR-"" CMD...): the mounts, then CMD
# exec'd (the process chain stays unshare -> ip -> setpriv -> timeout ->
# CMD, without a shell left over)
# shellcheck disable=SC2016 # expanded by the inner sh
UNPRIV_MOUNT='
	mount --bind "$1" /dev/net/tun || exit 120
	if [ -n "$2" ]; then mount --bind "$2" /etc/resolv.conf || exit 121; fi
	shift 2
	exec "$@"'

# veth_pair NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth IF_A in NS_A, its
# peer IF_B in NS_B, each with its address (A.B.C.D/LEN, or "" for none)
# and up.
veth_pair() {
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4" || fail "veth $2"
	[ -z "$3" ] || ip -n "$1" addr add "$3" dev "$2" || fail "addr $2"
	ip -n "$1" link set "$2" up || fail "$2 up"
	[ -z "$6" ] || ip -n "$4" addr add "$6" dev "$5" || fail "addr $5"
	ip -n "$4" link set "$5" up || fail "$5 up"
}

# unpriv_tmpd NAME [TOOL...]: the test's directory TMPD (NAME-PID.XXXXXX,
# 0755: uid 65534 reads it), U in it (0777: what CMD writes, root in its
# user namespace, uid 65534 outside), the 0666 TUN node $TMPD/tun that
# unpriv mounts, and a copy of each TOOL of tests/net in TMPD (0644).
unpriv_tmpd() {
	need setpriv unshare mknod
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/$1-$$.XXXXXX") || fail "mktemp"
	chmod 0755 "$TMPD"
	shift
	U=$TMPD/u
	mkdir "$U" && chmod 0777 "$U" || fail "mkdir $U"
	mknod -m 0666 "$TMPD/tun" c 10 200 || fail "mknod $TMPD/tun"
	chmod 0666 "$TMPD/tun"
	for _up_t in "$@"; do
		cp "$NET_DIR/$_up_t" "$TMPD/$_up_t" && chmod 0644 "$TMPD/$_up_t" ||
			fail "copy $_up_t"
	done
}

# unpriv [--resolv FILE] NETNS TIMEOUT CMD...: CMD as uid 65534 in the
# network namespace NETNS, killed by timeout(1) after TIMEOUT seconds (5 s
# after that with KILL), in the foreground; returns its exit status (120:
# the TUN node could not be mounted, 121: FILE). With --resolv, FILE is
# also bind-mounted over /etc/resolv.conf. The caller redirects its output.
unpriv() {
	_up_resolv=""
	if [ "$1" = --resolv ]; then
		_up_resolv=$2
		shift 2
	fi
	_up_ns=$1 _up_to=$2
	shift 2
	# shellcheck disable=SC2016,SC2086 # expanded by the inner sh; UNPRIV_SETPRIV split
	unshare -m --propagation private sh -c "$UNPRIV_MOUNT" sh "$TMPD/tun" "$_up_resolv" \
		ip netns exec "$_up_ns" $UNPRIV_SETPRIV timeout -k 5 "$_up_to" "$@"
}

# bg_unpriv NETNS TIMEOUT CMD...: the same in the background through bg:
# $BG_PID is the command itself (unshare, which becomes timeout by exec),
# not a subshell, so arc_pid and child_pids find arcnat under it.
bg_unpriv() {
	_up_ns=$1 _up_to=$2
	shift 2
	# shellcheck disable=SC2016,SC2086 # expanded by the inner sh; UNPRIV_SETPRIV split
	bg unshare -m --propagation private sh -c "$UNPRIV_MOUNT" sh "$TMPD/tun" "" \
		ip netns exec "$_up_ns" $UNPRIV_SETPRIV timeout -k 5 "$_up_to" "$@"
}
