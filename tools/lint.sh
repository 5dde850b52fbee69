#!/bin/sh
# Static analysis: cppcheck and clang-tidy over every C file, warnings are
# errors. Disabled clang-tidy checks are listed with reasons in .clang-tidy;
# cppcheck suppressions are listed here with reasons.
set -eu
cd "$(dirname "$0")/.."

files=$(find src tests bench fuzz tools -name '*.c' | sort)
jobs=$(nproc 2>/dev/null || echo 2)

# cppcheck suppressions:
#  missingIncludeSystem: cppcheck does not need libc headers to analyse us.
#  unusedFunction: library functions are used by later layers and tests;
#    cppcheck cannot see across our static libraries.
#  constParameterCallback / constParameterPointer: kernel-doc callback and
#    sink signatures are fixed by their typedefs.
echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
	--enable=warning,style,performance,portability \
	--suppress=missingIncludeSystem --suppress=unusedFunction \
	--suppress=constParameterCallback \
	-D__GNUC__ -D__x86_64__ -D__linux__ -D_GNU_SOURCE -Isrc -Itests \
	-j "$jobs" $files

echo "lint: clang-tidy"
# One file per clang-tidy, $jobs at once; each prints its findings and
# leaves a mark in $fails when it failed.
fails=$(mktemp)
trap 'rm -f "$fails"' EXIT
# shellcheck disable=SC2016 # expanded by the inner sh
printf '%s\n' $files | xargs -P "$jobs" -I{} sh -c '
	out=$(clang-tidy --quiet "$1" -- -std=gnu11 -D_GNU_SOURCE -Isrc -Itests 2>&1) || {
		printf "%s\n" "$out"
		echo "$1" >>"$2"
	}' sh {} "$fails"
if [ -s "$fails" ]; then
	echo "lint: clang-tidy found problems in: $(tr '\n' ' ' <"$fails")"
	exit 1
fi
echo "lint: clean"
