#!/bin/sh
# lib_skip.sh - a fixture of tests/selftest/run.sh, not a test of arcnat: a
# netns-style script that cannot run here and says so through lib.sh's
# skip, which must exit 77 with the reason as the last line.
#
#   (no topology: nothing is created)
. "$(dirname "$0")/../../net/lib.sh"

skip "selftest fixture: lib.sh skip"
