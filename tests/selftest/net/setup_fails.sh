#!/bin/sh
# setup_fails.sh - a fixture of tests/selftest/run.sh, not a test of
# arcnat: a netns-style script whose setup fails. It goes through lib.sh's
# real net_checks (not root: a skip, the one allowed) and ns_add, with a
# namespace name that `ip netns add` refuses (a '/'): nothing is created.
# As root that is a setup failure, which must exit 1, not skip.
#
#   (no topology: the first namespace cannot be made)
# shellcheck disable=SC2034 # ARCNAT is read by lib.sh
ARCNAT=$(command -v env)	# net_checks wants an executable; none is run
. "$(dirname "$0")/../../net/lib.sh"

net_checks
ns_add "an-st/$$"
ok "ip netns add an-st/$$ succeeded: the fixture no longer fails its setup"
