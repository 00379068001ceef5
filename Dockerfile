# The image of the GitHub Action. On the default branch action.yml says
# `image: Dockerfile`, so the runner builds this file in every job that uses
# the action; a release (.github/workflows/release.yml) builds it once for
# linux/amd64 and linux/arm64, pushes it to ghcr.io and points action.yml at
# that image by digest.
#
# Base images are pinned by digest, with the tag kept for people to read.
# Dependabot's docker ecosystem (.github/dependabot.yml) proposes new digests
# when the tags move, so the pins do not go stale.

# Build stage: runs on the build machine's platform and cross-compiles a
# static binary (no cgo) for the target platform, so a multi-platform build
# needs no emulated compiler. BUILDPLATFORM, TARGETOS and TARGETARCH are set
# by BuildKit. The classic builder (older engines on self-hosted runners)
# leaves them empty: `linux` then names the build machine's own platform,
# and empty TARGETOS and TARGETARCH build for it too.
ARG BUILDPLATFORM
FROM --platform=${BUILDPLATFORM:-linux} golang:1.26-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION is the release tag that `--version` prints and the action logs;
# release builds pass it (--build-arg VERSION=v1.2.3). Empty: "(devel)".
ARG VERSION
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
	go build -trimpath \
	-ldflags="-s -w -X github.com/set-image-platform/set-image-platform/internal/version.version=$VERSION" \
	-o /set-image-platform .

# distroless/static carries CA certificates for HTTPS registries and nothing
# else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12@sha256:bca175dfe8e21d4e4de21dd8b7eb0f78b32e0a2e7248de06e3b0f7c2dab6b1f5
COPY --from=build /set-image-platform /set-image-platform
# No USER line on purpose: GitHub runs Docker container actions as root (the
# image's default user) and documents that a USER instruction would lose
# access to the mounted workspace and to the files behind GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY.
ENTRYPOINT ["/set-image-platform"]
