#!/bin/sh
# Install, idempotently, every Debian package that the build, the tests, the
# fuzzers, the linters and the benchmarks need. `apt-get update` runs only
# when something is missing. Safe to run as often as you like; `make check`
# runs it first. Not root and something missing: say what, and fail.
set -eu

PKGS="
	make gcc libc6-dev
	libcmocka-dev
	clang llvm libclang-rt-14-dev
	cppcheck clang-tidy
	iproute2 iputils-ping python3
	libmnl-dev pkg-config
	python3-scapy iperf3 socat nftables tcpdump netcat-openbsd ethtool
	busybox isc-dhcp-client dnsmasq-base bind9-dnsutils
	libseccomp-dev libcap-ng-dev stun-client stun-server iputils-tracepath
	libjson-c-dev python3-prometheus-client
	qemu-system-x86 passt
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root, or: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
