#!/bin/sh
# Run each libFuzzer harness for SECONDS on its seed corpus (fuzz/corpus/NAME,
# where NAME is the harness name without "fuzz_"). New inputs go to a scratch
# directory, so the committed corpus only changes on purpose. Crashes leave
# their reproducer in build-fuzz/artifacts/. FUZZ_JOBS harnesses (default:
# the number of CPUs) run at once, each on one core, so the smoke run takes
# SECONDS x harnesses / FUZZ_JOBS.
#   usage: tools/fuzz-smoke.sh SECONDS FUZZER...
set -eu
secs=$1
shift
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
mkdir -p build-fuzz/artifacts

# one harness; its log in build-fuzz/NAME.log; status 1 on a crash
smoke() {
	name=$(basename "$1")
	corpus=fuzz/corpus/${name#fuzz_}
	scratch=build-fuzz/corpus-${name#fuzz_}
	mkdir -p "$scratch"
	echo "fuzz-smoke: $name for ${secs}s (seeds: $corpus)"
	"$1" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ \
		"$scratch" "$corpus" 2>build-fuzz/"$name".log || {
		echo "fuzz-smoke: $name FAILED"
		return 1
	}
	echo "fuzz-smoke: $name: $(grep -E '^Done' build-fuzz/"$name".log || echo done)"
}

# Lane k runs harnesses k, k + jobs, k + 2 jobs, ... one after the other.
pids=""
k=0
while [ "$k" -lt "$jobs" ]; do
	(
		i=0
		rc=0
		for f in "$@"; do
			[ $((i % jobs)) = "$k" ] && { smoke "$f" || rc=1; }
			i=$((i + 1))
		done
		exit $rc
	) &
	pids="$pids $!"
	k=$((k + 1))
done
failed=0
for p in $pids; do
	wait "$p" || failed=1
done
if [ $failed = 1 ]; then
	for f in "$@"; do
		name=$(basename "$f")
		if grep -q 'ERROR: libFuzzer\|SUMMARY: ' build-fuzz/"$name".log 2>/dev/null; then
			tail -n 60 build-fuzz/"$name".log
		fi
	done
	echo "fuzz-smoke: FAILED"
	exit 1
fi
echo "fuzz-smoke: all fuzzers survived ${secs}s"
