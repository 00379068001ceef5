#!/usr/bin/env bash
# check-reproducible.sh builds the release archives twice and fails unless
# the two are byte-identical. The second build is done the way someone
# checking a release would do it: from a copy of the sources at another
# path, with an empty build cache, another umask and another time zone.
# It also runs the binary built for this machine, which must report the
# version it was given.
#
# RELEASE_TARGETS (see release-binaries.sh) chooses the platforms; .ci/run
# checks a few to stay fast, a release builds all of them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=v0.0.0-reproducible

tmp="$(mktemp -d)"
# The build cache marks nothing read-only, so plain rm removes it.
trap 'rm -rf "$tmp"' EXIT

echo "first build, in $(pwd)"
scripts/release-binaries.sh "$version" "$tmp/first"

# The files a checkout holds, with this tree's uncommitted changes: tracked
# files that still exist and untracked ones git does not ignore.
src="$tmp/elsewhere/set-image-platform"
mkdir -p "$src"
(
	umask 077
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [[ -f "$f" ]]; then printf '%s\0' "$f"; fi
		done |
		tar --null -T - -cf - | tar -xf - -C "$src"
)
echo "second build, in a copy with an empty build cache"
mkdir "$tmp/gocache" "$tmp/tmp"
(
	umask 077
	GOCACHE="$tmp/gocache" TMPDIR="$tmp/tmp" TZ=Pacific/Kiritimati \
		"$src/scripts/release-binaries.sh" "$version" "$tmp/second"
)

status=0
if ! diff <(cd "$tmp/first" && printf '%s\n' *) <(cd "$tmp/second" && printf '%s\n' *); then
	echo "the two builds made different files" >&2
	status=1
fi
for f in "$tmp/first"/*; do
	name="$(basename "$f")"
	if [[ -f "$tmp/second/$name" ]] && ! cmp -s "$f" "$tmp/second/$name"; then
		echo "$name differs between the two builds" >&2
		status=1
	fi
done
[[ $status -eq 0 ]] || exit 1
echo "the two builds are byte-identical:" && (cd "$tmp/first" && printf '  %s\n' *)

host="$(go env GOHOSTOS)_$(go env GOHOSTARCH)"
archive="$tmp/first/set-image-platform_${version}_$host.tar.gz"
if [[ ! -f "$archive" ]]; then
	echo "$host is not among the targets: the version stamp is not checked"
	exit 0
fi
mkdir "$tmp/run"
tar -xzf "$archive" -C "$tmp/run"
got="$("$tmp/run/set-image-platform" --version)"
want="set-image-platform $version"
if [[ "$got" != "$want" ]]; then
	echo "set-image-platform --version printed \"$got\", want \"$want\"" >&2
	exit 1
fi
echo "the $host binary reports \"$got\""
