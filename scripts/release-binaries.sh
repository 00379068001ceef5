#!/usr/bin/env bash
# release-binaries.sh builds the command-line binaries a release attaches:
# one archive per platform (tar.gz, zip for Windows) holding the binary,
# LICENSE and README.md, and SHA256SUMS over the archives.
#
#   scripts/release-binaries.sh VERSION OUTDIR
#
# VERSION is the release tag (v1.2.3), stamped into the binary; OUTDIR must
# be empty or absent. The release workflow calls this script; so can anyone,
# to check a release: with the Go version the release notes name, the same
# tag gives byte-identical archives. RELEASE_TARGETS (space-separated
# GOOS/GOARCH) builds fewer platforms.
set -euo pipefail

die() { echo "release-binaries: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: release-binaries.sh VERSION OUTDIR"
version="$1"
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
	die "version \"$version\" is not a release tag such as v1.2.3 or v1.2.3-rc.1"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
[[ -z "$(ls -A "$out")" ]] || die "output directory \"$2\" is not empty"

read -r -a targets <<<"${RELEASE_TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go build -o "$work/archive" ./scripts/archive

# What the bytes of a binary depend on, fixed here rather than left to the
# caller's environment: no cgo (so no C toolchain), -trimpath (no paths of
# this machine), -buildvcs=false (no commit or dirty flag: the release moves
# its tag to a commit that changes only action.yml), the baseline
# instruction sets, no experiments, and the modules go.sum names.
export CGO_ENABLED=0 GOAMD64=v1 GOARM64=v8.0 GOEXPERIMENT='' GOFLAGS=-mod=readonly
ldflags="-s -w -X github.com/set-image-platform/set-image-platform/internal/version.version=$version"

echo "$(go version), version $version"
archives=()
for target in "${targets[@]}"; do
	goos="${target%/*}" goarch="${target#*/}"
	exe=set-image-platform ext=tar.gz
	if [[ "$goos" == windows ]]; then exe+=.exe ext=zip; fi
	bin="$work/${goos}_$goarch/$exe"
	GOOS="$goos" GOARCH="$goarch" go build -trimpath -buildvcs=false -ldflags="$ldflags" -o "$bin" .
	archive="set-image-platform_${version}_${goos}_$goarch.$ext"
	"$work/archive" "$out/$archive" "$bin" LICENSE README.md
	archives+=("$archive")
	echo "$archive"
done

# The format of sha256sum, which `sha256sum -c SHA256SUMS` checks; macOS has
# shasum instead.
sum=(sha256sum)
command -v sha256sum >/dev/null || sum=(shasum -a 256)
(cd "$out" && "${sum[@]}" -- "${archives[@]}") >"$out/SHA256SUMS"
