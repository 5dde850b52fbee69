#!/bin/sh
# Enforce design.md section 3: folders are layers, and a file may include
# only headers of its own layer or of layers below it.
#
#   core <- prot, pkt, mem, sys <- ct, svc <- nat <- dp <- guest, uplink, ctl <- app
#
# prot, pkt and mem share a rank, but prot holds wire formats only and must
# not include pkt or mem. Exit 1 and name every offending include.
set -eu
cd "$(dirname "$0")/.."

rank() {
	case $1 in
	core) echo 0 ;;
	prot | pkt | mem | sys) echo 1 ;;
	ct | svc) echo 2 ;;
	nat) echo 3 ;;
	dp) echo 4 ;;
	guest | uplink | ctl) echo 5 ;;
	app) echo 6 ;;
	*) echo 99 ;;
	esac
}

bad=0
for f in $(find src -name '*.[ch]' | sort); do
	layer=$(echo "$f" | cut -d/ -f2)
	r=$(rank "$layer")
	if [ "$r" = 99 ]; then
		echo "check-layers: $f: folder '$layer' is not a known layer (add it to design.md and here)"
		bad=1
		continue
	fi
	# Project includes are the quoted ones: #include "layer/file.h"
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		dep=$(echo "$inc" | cut -d/ -f1)
		[ "$dep" = "$inc" ] && {
			echo "check-layers: $f: include \"$inc\" must name its layer folder"
			bad=1
			continue
		}
		dr=$(rank "$dep")
		if [ "$dr" -gt "$r" ] || { [ "$layer" = prot ] && [ "$dep" != prot ] && [ "$dep" != core ]; }; then
			echo "check-layers: $f ($layer) includes $inc ($dep): a lower layer may not include a higher one"
			bad=1
		fi
	done
done
[ "$bad" = 0 ] && echo "check-layers: ok"
exit "$bad"
