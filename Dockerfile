# The GitHub Action builds this image on the runner when a workflow uses it
# (runs.using: docker, runs.image: Dockerfile in action.yml).

# Build stage: a static binary (no cgo), so the final image needs no libc.
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /set-image-platform .

# distroless/static carries CA certificates for HTTPS registries and nothing
# else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12
COPY --from=build /set-image-platform /set-image-platform
# No USER line on purpose: GitHub runs Docker container actions as root (the
# image's default user) and documents that a USER instruction would lose
# access to the mounted workspace and to the files behind GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY.
ENTRYPOINT ["/set-image-platform"]
