#!/bin/sh
# Enforce the layering of docs/architecture.md "Layers": folders under src/
# are layers, and a file may include only headers of its own layer or of
# layers below it.
#
#   core <- prot, pkt, mem, sys <- ct, svc <- nat <- dp <- guest, uplink, ctl <- app
#
# prot, pkt and mem share a rank, but prot holds wire formats only and must
# not include pkt or mem.
#
# Within that order, modules must not depend on each other in a cycle. A
# module is a .c and its .h of the same name in one folder (src/nat/map.c
# and src/nat/map.h are the module src/nat/map; a lone header is a module
# too). Module A depends on module B when a file of A names B's header in
# an #include "..." line; a cycle is A -> ... -> A through such
# dependencies. So map.c including nat.h while nat.h (or nat.c) includes
# map.h is a cycle between map and nat, even though the preprocessor is
# happy with it: each half must be understood, tested and changed without
# the other. tsort(1) finds the cycles.
#
# Exit 1 and name every offending include or cycle.
#
#   tools/check-layers.sh [ROOT]     check ROOT/src (default: this tree)
#   tools/check-layers.sh --self-test
#     checks the checker on small trees it makes: a clean one passes; an
#     upward include, a cycle through a header, a cycle of three and one
#     through a lone header each fail and are named. CI runs it.
set -eu
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

if [ "${1:-}" = --self-test ]; then
	t=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX")
	trap 'rm -rf "$t"' EXIT
	fails=0
	# put FILE LINE...: write a file of the test tree.
	put() {
		f=$t/$1
		shift
		mkdir -p "$(dirname "$f")"
		printf '%s\n' "$@" >"$f"
	}
	# expect STATUS TEXT: run the check on the tree, compare.
	expect() {
		st=0
		"$self" "$t" >"$t.out" 2>&1 || st=$?
		if [ "$st" != "$1" ] || ! grep -q "$2" "$t.out"; then
			echo "check-layers self-test: exit $st, want $1 and '$2' in:"
			sed 's/^/    | /' "$t.out"
			fails=1
		fi
	}
	put src/core/log.h '/* lone header */'
	put src/nat/map.h '#include "core/log.h"'
	put src/nat/map.c '#include "nat/map.h"'
	put src/nat/nat.h '#include "nat/map.h"'
	put src/nat/nat.c '#include "nat/nat.h"'
	expect 0 'check-layers: ok'
	put src/core/log.c '#include "core/log.h"' '#include "nat/nat.h"'
	expect 1 'src/core/log.c (core) includes nat/nat.h (nat): a lower layer'
	put src/core/log.c '#include "core/log.h"'
	expect 0 'check-layers: ok'
	put src/nat/map.c '#include "nat/map.h"' '#include "nat/nat.h"'
	expect 1 'src/nat/nat'
	grep -q 'cycle' "$t.out" || { echo "check-layers self-test: no cycle named"; fails=1; }
	put src/nat/map.c '#include "nat/map.h"' '#include "nat/frag.h"'
	put src/nat/frag.h '#include "core/log.h"'
	put src/nat/frag.c '#include "nat/frag.h"' '#include "nat/nat.h"'
	expect 1 'src/nat/frag'
	put src/nat/frag.c '#include "nat/frag.h"'
	put src/nat/frag.h '#include "nat/drop.h"'
	put src/nat/drop.h '#include "nat/nat.h"'
	expect 1 'src/nat/drop'
	put src/nat/drop.h '/* lone header */'
	expect 0 'check-layers: ok'
	rm -f "$t.out"
	[ "$fails" = 0 ] && echo "check-layers self-test: ok"
	exit "$fails"
fi
cd "${1:-$(dirname "$self")/..}"

# Sets r to the rank of layer $1 (99: unknown). No subshell: this runs
# once per include, and forks would make the check slow.
rank() {
	case $1 in
	core) r=0 ;;
	prot | pkt | mem | sys) r=1 ;;
	ct | svc) r=2 ;;
	nat) r=3 ;;
	dp) r=4 ;;
	guest | uplink | ctl) r=5 ;;
	app) r=6 ;;
	*) r=99 ;;
	esac
}

bad=0
edges=$(mktemp)
trap 'rm -f "$edges" "$edges.err"' EXIT
for f in $(find src -name '*.[ch]' | sort); do
	layer=${f#src/}
	layer=${layer%%/*}
	mod=${f%.?}
	echo "$mod $mod" >>"$edges"
	rank "$layer"
	fr=$r
	if [ "$fr" = 99 ]; then
		echo "check-layers: $f: folder '$layer' is not a known layer (add it to docs/architecture.md and here)"
		bad=1
		continue
	fi
	# Project includes are the quoted ones: #include "layer/file.h"
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		dep=${inc%%/*}
		[ "$dep" = "$inc" ] && {
			echo "check-layers: $f: include \"$inc\" must name its layer folder"
			bad=1
			continue
		}
		echo "src/${inc%.h} $mod" >>"$edges"
		rank "$dep"
		if [ "$r" -gt "$fr" ] || { [ "$layer" = prot ] && [ "$dep" != prot ] && [ "$dep" != core ]; }; then
			echo "check-layers: $f ($layer) includes $inc ($dep): a lower layer may not include a higher one"
			bad=1
		fi
	done
done
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
	sed -e 's/^tsort: //' \
	    -e 's/^.*input contains a loop:$/check-layers: modules that include each other in a cycle:/' \
	    -e 's/^src/  src/' "$edges.err"
	bad=1
fi
[ "$bad" = 0 ] && echo "check-layers: ok"
exit "$bad"
