#!/usr/bin/env bash
# scripts/containerd-engine.sh starts a Docker engine with the containerd
# image store beside the machine's own, for the e2e tests of that store
# (SET_IMAGE_PLATFORM_CONTAINERD_HOST; docs/daemon.md). Debian bookworm has
# Engine 20.10 only, and installing a newer one would replace the engine
# the other tests use. Debian's next release (trixie) packages docker.io
# 26.1 and containerd 1.7, which run on bookworm as they are: their .deb
# files are fetched with apt-get under a private configuration (the
# machine's own apt sources, lists and cache are left alone) and unpacked
# into DIR, nothing installed. containerd and dockerd then run with their
# roots, state and sockets under DIR.
#
#   scripts/containerd-engine.sh start DIR   # prints the engine's DOCKER_HOST
#   scripts/containerd-engine.sh stop DIR
#
# It needs root, apt-get, dpkg-deb, ip (iproute2), runc and the docker CLI
# (Debian's docker.io gives the last two).
set -euo pipefail

release="${CONTAINERD_ENGINE_RELEASE:-trixie}"
# The engine's bridge and its address, apart from docker0's pools.
bridge="${CONTAINERD_ENGINE_BRIDGE:-sipcd0}"
bridge_addr="${CONTAINERD_ENGINE_BRIDGE_ADDR:-10.254.254.1/24}"
cmd="${1:-}"
dir="${2:-}"
if [[ -z "$cmd" || -z "$dir" ]]; then
	echo "usage: $0 start|stop DIR" >&2
	exit 2
fi
if [[ "$cmd" == stop && ! -d "$dir" ]]; then
	exit 0
fi
dir="$(cd "$dir" && pwd)"

start() {
	local uri apt
	# The archive the machine already uses for its release, asked of apt.
	uri="$(apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(COMPONENT)' 'Created-By: Packages' |
		awk '$2 !~ /-/ && $3 == "main" { print $1; exit }')"
	if [[ -z "$uri" ]]; then
		echo "no Debian archive among apt's sources" >&2
		return 1
	fi
	mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/deb" "$dir/root"
	echo "deb $uri $release main" >"$dir/apt/sources.list"
	apt=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache" -o APT::Sandbox::User=root)
	apt-get "${apt[@]}" update -qq >&2
	(cd "$dir/deb" && apt-get "${apt[@]}" download docker.io containerd >&2)
	for deb in "$dir"/deb/*.deb; do
		dpkg-deb -x "$deb" "$dir/root"
	done

	cat >"$dir/containerd.toml" <<EOF
version = 2
root = "$dir/containerd-root"
state = "$dir/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
EOF
	echo '{"features":{"containerd-snapshotter":true}}' >"$dir/daemon.json"
	# A bridge of its own: dockerd started with --bridge=none deletes the
	# default docker0 at start, which would cut the other engine's
	# containers (and a person's own) off their network.
	ip link add name "$bridge" type bridge 2>/dev/null || true
	ip addr replace "$bridge_addr" dev "$bridge"
	ip link set "$bridge" up
	local path="$dir/root/usr/bin:$dir/root/usr/sbin:$PATH"
	PATH="$path" setsid "$dir/root/usr/bin/containerd" --config "$dir/containerd.toml" \
		>"$dir/containerd.log" 2>&1 </dev/null &
	echo $! >"$dir/containerd.pid"
	for _ in $(seq 60); do
		[[ -S "$dir/containerd.sock" ]] && break
		sleep 0.5
	done
	PATH="$path" setsid "$dir/root/usr/sbin/dockerd" --config-file "$dir/daemon.json" \
		--containerd "$dir/containerd.sock" --bridge="$bridge" --iptables=false \
		--data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
		--host "unix://$dir/docker.sock" >"$dir/dockerd.log" 2>&1 </dev/null &
	for _ in $(seq 60); do
		if DOCKER_HOST="unix://$dir/docker.sock" docker info --format '{{.DriverStatus}}' 2>/dev/null |
			grep -q io.containerd.snapshotter.v1; then
			echo "unix://$dir/docker.sock"
			return
		fi
		sleep 0.5
	done
	echo "dockerd with the containerd image store did not start:" >&2
	tail -20 "$dir/dockerd.log" "$dir/containerd.log" >&2
	return 1
}

# stop ends dockerd, then containerd, each by the pid it wrote, and removes
# DIR once nothing is mounted under it.
stop() {
	local f pid
	for f in dockerd.pid containerd.pid; do
		[[ -f "$dir/$f" ]] || continue
		pid="$(cat "$dir/$f")"
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
	done
	awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || true
	done
	rm -rf "$dir" || true
	ip link delete "$bridge" type bridge 2>/dev/null || true
}

case "$cmd" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
