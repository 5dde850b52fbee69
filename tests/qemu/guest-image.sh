#!/bin/sh
# tests/qemu/guest-image.sh - build (once) and cache the real-VM test guest:
# a stock Debian kernel and a busybox initramfs whose /init brings eth0 up,
# takes a DHCP lease, runs the test script it is given and powers off.
#
#   tests/qemu/guest-image.sh        prints, for eval, two lines:
#                                      GUEST_KERNEL=/abs/path/vmlinuz
#                                      GUEST_INITRD=/abs/path/initramfs.cpio.gz
#   exit status 0, or 1 with the reason on stderr
#
# The kernel: the package linux-image-cloud-amd64 depends on (KERNEL_PKG
# overrides), fetched with `apt-get download` (not installed) and unpacked
# with dpkg-deb; only vmlinuz and the virtio-net modules are kept. The cloud
# flavour is the smallest stock kernel with virtio-net (the .deb is ~27 MB,
# the kept files ~8 MB). `apt-get update` runs only when apt knows no such
# package (a fresh container); as root only.
#
# The cache, $QEMU_CACHE (default build/qemu-cache/ of the repository):
#   kernel-PKG_VERSION/vmlinuz, modules/*.ko, modules/order
#   initramfs-PKG_VERSION-HASH.cpio.gz   HASH: of this script and busybox
# so a new kernel version or a changed /init builds a new image and repeated
# runs (and CI runs that keep build/qemu-cache/) download nothing. With no
# apt package lists at all (offline) the newest cached kernel is used.
#
# The initramfs: the host's busybox (Debian's is dynamically linked: its
# libraries are copied along, see ldd) and the modules. This machine has no
# cpio binary: busybox's `cpio -o -H newc` writes the archive.
#
# The guest's /init (busybox sh):
#   - loads the modules, brings lo and eth0 up, runs udhcpc on eth0
#   - prints `RESULT dhcp ok|fail ip=A/MASK router=R dns=D` and exports
#     LEASE_IP, LEASE_ROUTER, LEASE_DNS (and writes /etc/resolv.conf)
#   - runs /test.sh if there is one (busybox sh, with `result NAME ok|fail
#     DETAIL` defined): a test appends it as a second cpio archive after this
#     one (the kernel unpacks concatenated archives), see tests/qemu/guest.sh
#   - prints `GUEST-DONE` and powers off (QEMU exits: run it with -no-reboot)
# Every line goes to the serial console (ttyS0), where it ends in CR LF:
# readers strip the CR.
set -eu

REPO_DIR=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$REPO_DIR/tests/qemu/guest-image.sh
CACHE=${QEMU_CACHE:-$REPO_DIR/build/qemu-cache}
# the modules the guest loads, with what they depend on (modules.dep); one
# that the kernel has built in needs nothing
MODS="virtio_pci virtio_net"

die() {
	echo "guest-image: $*" >&2
	exit 1
}
log() { echo "guest-image: $*" >&2; }

# kernel_pkg: "NAME VERSION" of the kernel package the candidate
# linux-image-cloud-amd64 depends on (one apt-cache call: they are slow), or
# nothing
kernel_pkg() {
	apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^Depends: \(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n 1
}

mkdir -p "$CACHE"
# the work directories (.fetch.*, .rootfs.*) go, whatever happens
WORK=""
trap 'rm -rf $WORK' EXIT
if [ -n "${KERNEL_PKG:-}" ]; then
	KPKG=$KERNEL_PKG
	KVER=$(apt-cache policy "$KPKG" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ "$KVER" = "(none)" ] && KVER=""
else
	PV=$(kernel_pkg)
	if [ -z "$PV" ] && [ "$(id -u)" = 0 ] && ! ls -d "$CACHE"/kernel-*/vmlinuz >/dev/null 2>&1; then
		log "apt knows no linux-image-cloud-amd64: apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		PV=$(kernel_pkg)
	fi
	KPKG=${PV% *}
	KVER=${PV#* }
fi
if [ -n "$KPKG" ] && [ -n "$KVER" ]; then
	KEY=${KPKG}_$KVER
else
	# offline: the newest kernel already in the cache
	KDIR=$(for d in "$CACHE"/kernel-*/vmlinuz; do [ -f "$d" ] && dirname "$d"; done | sort -V | tail -n 1)
	[ -n "$KDIR" ] || die "cannot resolve the kernel package (apt-get update?) and nothing is cached in $CACHE"
	KEY=$(basename "$KDIR")
	KEY=${KEY#kernel-}
	log "no apt package lists: using the cached kernel $KEY"
fi
KDIR=$CACHE/kernel-$KEY

fetch_kernel() {
	_tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
	WORK="$WORK $_tmp"
	# apt-get download as root drops to _apt: let it write there
	chmod 755 "$_tmp"
	log "downloading $KPKG $KVER (apt-get download, not installed)"
	(cd "$_tmp" && apt-get download "$KPKG=$KVER" >/dev/null 2>"$_tmp/apt.err") ||
		die "apt-get download $KPKG=$KVER failed: $(tail -n 3 "$_tmp/apt.err")"
	dpkg-deb -x "$_tmp"/*.deb "$_tmp/root" || die "dpkg-deb -x failed"
	mkdir -p "$_tmp/k/modules"
	cp "$_tmp"/root/boot/vmlinuz-* "$_tmp/k/vmlinuz"
	_kv=$(ls "$_tmp/root/lib/modules")
	_md=$_tmp/root/lib/modules/$_kv
	# the package has no modules.dep (the installer makes it): busybox's depmod
	busybox depmod -b "$_tmp/root" "$_kv" || die "busybox depmod failed"
	# modules.dep: "path: dep dep ..."; modprobe loads the deps last to
	# first, then the module: the same order, without repeats
	_paths=$(for _m in $MODS; do
		awk -v m="$_m" '{ p = $1; sub(/:$/, "", p); n = p; sub(/.*\//, "", n); sub(/\.ko.*/, "", n) }
			n == m { for (i = NF; i > 1; i--) print $i; print p; found = 1 }
			END { if (!found) print "MISSING " m }' "$_md/modules.dep"
	done | awk '!seen[$0]++')
	: >"$_tmp/k/modules/order"
	for _p in $_paths; do
		case $_p in
		MISSING) continue ;;
		esac
		_m=$(basename "$_p")
		_m=${_m%%.ko*}
		case $_paths in
		*"MISSING $_m"*)
			grep -q "/$_m.ko\$" "$_md/modules.builtin" ||
				die "module $_m is neither in $KPKG nor built in"
			continue
			;;
		esac
		case $_p in
		*.xz) xz -dc "$_md/$_p" >"$_tmp/k/modules/$_m.ko" ;;
		*.zst) zstd -qdc "$_md/$_p" >"$_tmp/k/modules/$_m.ko" ;;
		*) cp "$_md/$_p" "$_tmp/k/modules/$_m.ko" ;;
		esac
		echo "$_m" >>"$_tmp/k/modules/order"
	done
	rm -rf "$KDIR"
	mv "$_tmp/k" "$KDIR"
	rm -rf "$_tmp"
}
if [ ! -f "$KDIR/vmlinuz" ] || [ ! -f "$KDIR/modules/order" ]; then
	fetch_kernel
fi

BUSYBOX=$(command -v busybox) || die "no busybox (tools/deps.sh installs it)"
HASH=$(cat "$SELF" "$BUSYBOX" | sha256sum | cut -c1-12)
INITRD=$CACHE/initramfs-$KEY-$HASH.cpio.gz

build_initramfs() {
	_r=$(mktemp -d "$CACHE/.rootfs.XXXXXX")
	WORK="$WORK $_r"
	mkdir -p "$_r/bin" "$_r/sbin" "$_r/etc/udhcpc" "$_r/proc" "$_r/sys" "$_r/dev" "$_r/tmp" "$_r/lib/modules"
	cp "$BUSYBOX" "$_r/bin/busybox"
	for _l in $(ldd "$BUSYBOX" | grep -o '/[^ ]*'); do
		mkdir -p "$_r$(dirname "$_l")"
		cp -L "$_l" "$_r$_l"
	done
	cp "$KDIR"/modules/* "$_r/lib/modules/"

	cat >"$_r/etc/udhcpc/script" <<-'EOF'
	#!/bin/sh
	# udhcpc's hook: configure eth0 and keep the lease in /tmp/lease
	case $1 in
	deconfig)
		ip -4 addr flush dev "$interface"
		ip link set "$interface" up
		;;
	bound | renew)
		ip -4 addr flush dev "$interface"
		ip addr add "$ip/${mask:-24}" dev "$interface"
		for r in $router; do
			ip route add default via "$r" dev "$interface"
			break
		done
		: >/etc/resolv.conf
		for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
		printf 'LEASE_IP=%s/%s\nLEASE_ROUTER=%s\nLEASE_DNS=%s\n' \
			"$ip" "${mask:-24}" "$(echo $router)" "$(echo $dns)" >/tmp/lease
		;;
	esac
	exit 0
	EOF

	cat >"$_r/init" <<-'EOF'
	#!/bin/busybox sh
	/bin/busybox --install -s /bin
	export PATH=/bin:/sbin
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	mount -t tmpfs tmp /tmp
	# the initramfs has no /dev/console node: from now on, the serial console
	exec </dev/console >/dev/console 2>&1
	result() { echo "RESULT $*"; }
	echo "GUEST-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
	while read -r m; do
		insmod "/lib/modules/$m.ko" || result "insmod_$m" fail
	done </lib/modules/order
	ip link set lo up
	n=0
	while ! ip link show eth0 >/dev/null 2>&1 && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	ip link set eth0 up
	if udhcpc -i eth0 -s /etc/udhcpc/script -n -q -t 10 -T 2 -A 1 >/tmp/dhcp.log 2>&1 && [ -f /tmp/lease ]; then
		. /tmp/lease
		result dhcp ok "ip=$LEASE_IP router=$LEASE_ROUTER dns=$LEASE_DNS mac=$(cat /sys/class/net/eth0/address)"
	else
		result dhcp fail "$(tail -n 3 /tmp/dhcp.log | tr '\n' ' ')"
	fi
	if [ -f /test.sh ]; then
		. /test.sh
	fi
	echo "GUEST-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
	poweroff -f
	EOF
	chmod 755 "$_r/init" "$_r/etc/udhcpc/script"
	(cd "$_r" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -6 >"$INITRD.tmp") ||
		die "busybox cpio failed"
	mv "$INITRD.tmp" "$INITRD"
	# the images of an older /init or busybox for this kernel are stale
	for _o in "$CACHE/initramfs-$KEY-"*.cpio.gz; do
		[ "$_o" = "$INITRD" ] || rm -f "$_o"
	done
	rm -rf "$_r"
	log "built $INITRD ($(du -k "$INITRD" | cut -f1) KiB)"
}
[ -f "$INITRD" ] || build_initramfs

echo "GUEST_KERNEL=$KDIR/vmlinuz"
echo "GUEST_INITRD=$INITRD"
