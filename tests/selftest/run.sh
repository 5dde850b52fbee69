#!/bin/sh
# tests/selftest/run.sh [BUILD_DIR] - the self-test of tests/run: does the
# runner count honestly? `make check` runs it before the suite (a second or
# two); it exits 1, naming each miscount, if the runner or the exit status
# convention (tests/test_exit.h, tests/net/lib.sh) lies.
#
# Fixtures: BUILD_DIR/selftest/{four_fail,passes,skips} (built by `make`
# from tests/selftest/*.c), test programs made here that exit 2, 4, 76 and
# 78, tests/selftest/net/setup_fails.sh and lib_skip.sh. Each case runs
# tests/run on a subset (TEST_FILTER) of a private build directory, with
# its own CI setting and allow-list, and checks the exit status and the
# summary line.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${1:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/an-selftest.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
bad=0
cases=0
miss() {
	printf 'selftest: FAIL: %s\n' "$*"
	sed 's/^/    | /' "$T/out" 2>/dev/null | tail -n 20
	bad=1
}

mkdir -p "$T/b/tests" "$T/logs"
for f in four_fail passes skips; do
	[ -x "$O/selftest/$f" ] || {
		echo "selftest: FAIL: no $O/selftest/$f (run make first)"
		exit 1
	}
	cp "$O/selftest/$f" "$T/b/tests/test_$f"
done
for rc in 2 4 76 78; do
	printf '#!/bin/sh\necho "exits %s"\nexit %s\n' "$rc" "$rc" >"$T/b/tests/test_exit$rc"
	chmod +x "$T/b/tests/test_exit$rc"
done
: >"$T/allow.none"
printf '# comment\n\ntest_other  not this one\n' >"$T/allow.other"
printf 'test_skips   selftest reason %s\n' "$$" >"$T/allow.skips"

# runner CI FILTER ALLOW-LIST: tests/run on the private build dir; sets rc,
# output in $T/out.
runner() {
	env CI="$1" TEST_FILTER="$2" SKIP_ALLOWED="$3" BUILD_DIRS="$T/b" \
		TESTS_NET_DIR=tests/selftest/net LOG_DIR="$T/logs" \
		tests/run >"$T/out" 2>&1
	rc=$?
}

# expect WHAT OK|FAIL "P passed, F failed, S skipped" [PATTERN]: the last
# runner() exited 0 (OK) or not (FAIL), printed that summary last, and
# (if given) PATTERN somewhere.
expect() {
	cases=$((cases + 1))
	if [ "$2" = OK ] && [ "$rc" != 0 ]; then
		miss "$1: tests/run exited $rc, want 0"
	elif [ "$2" = FAIL ] && [ "$rc" = 0 ]; then
		miss "$1: tests/run exited 0, want non-zero"
	elif [ "$(tail -n 1 "$T/out")" != "$3" ]; then
		miss "$1: summary '$(tail -n 1 "$T/out")', want '$3'"
	elif [ -n "${4:-}" ] && ! grep -q -- "$4" "$T/out"; then
		miss "$1: the output does not say '$4'"
	fi
}

# The fixture is what it claims: cmocka sees four failures.
"$T/b/tests/test_four_fail" >"$T/out" 2>&1
rc=$?
cases=$((cases + 1))
[ "$rc" = 1 ] || miss "four_fail: exit status $rc, want 1 (the four failures folded to 1)"
grep -q 'FAILED  \] 4 test(s)' "$T/out" || miss "four_fail: cmocka does not report exactly 4 failed tests"

runner "" test_four_fail "$T/allow.none"
expect "a cmocka program with four failing tests" FAIL "0 passed, 1 failed, 0 skipped" "FAIL  $T/b/tests/test_four_fail"
runner "" test_exit "$T/allow.none"
expect "programs exiting 2, 4, 76, 78" FAIL "0 passed, 4 failed, 0 skipped"
runner "" test_passes "$T/allow.none"
expect "a passing program" OK "1 passed, 0 failed, 0 skipped"

runner "" test_skips "$T/allow.none"
expect "exit 77 without CI" OK "0 passed, 0 failed, 1 skipped" "SKIP: selftest fixture: cannot run here"
runner 1 test_skips "$T/allow.none"
expect "exit 77 under CI=1, empty allow-list" FAIL "0 passed, 1 failed, 0 skipped" "skipped under CI"
runner 1 test_skips "$T/allow.other"
expect "exit 77 under CI=1, another test allow-listed" FAIL "0 passed, 1 failed, 0 skipped"
runner 1 test_skips "$T/allow.skips"
expect "exit 77 under CI=1, allow-listed" OK "0 passed, 0 failed, 1 skipped" "selftest reason $$"
runner "" lib_skip "$T/allow.none"
expect "lib.sh's skip without CI" OK "0 passed, 0 failed, 1 skipped" "SKIP: selftest fixture: lib.sh skip"
runner 1 "" "$T/allow.skips"
expect "everything under CI=1" FAIL "1 passed, 7 failed, 1 skipped"

runner "" no-such-test "$T/allow.none"
expect "a filter that matches nothing" FAIL "0 passed, 1 failed, 0 skipped"

# A setup failure as root is a failure; not root, net_checks skips first.
runner "" setup_fails "$T/allow.none"
if [ "$(id -u)" = 0 ]; then
	expect "setup_fails.sh as root" FAIL "0 passed, 1 failed, 0 skipped" "ip netns add an-st/[0-9]* failed"
else
	expect "setup_fails.sh not root" OK "0 passed, 0 failed, 1 skipped" "SKIP: not root"
	echo "selftest: not root: setup_fails.sh checked for its skip only"
fi

# Every unit test returns through the fold; no script skips the old way.
: >"$T/out"
cases=$((cases + 1))
raw=$(grep -l 'cmocka_run_group_tests' tests/unit/test_*.c)
[ -z "$raw" ] || miss "cmocka's failure count returned unfolded (use TEST_RUN_GROUP) in: $raw"
cases=$((cases + 1))
old=$(grep -n -E '(exit|return) 4([^0-9]|$)' tests/run tests/net/*.sh tools/*.sh bench/net/*.sh .ci/run 2>/dev/null)
[ -z "$old" ] || miss "exit status 4 (the old skip) in: $old"

if [ "$bad" != 0 ]; then
	echo "selftest: tests/run or the exit status convention miscounts (see above)"
	exit 1
fi
echo "selftest: tests/run counts honestly ($cases cases)"
