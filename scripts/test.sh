#!/usr/bin/env bash
# Runs go vet and the whole test suite with one throwaway PostgreSQL server,
# so that the PostgreSQL store tests run instead of skipping.
#
#   bash scripts/test.sh [go test flags and packages...]
#
# It installs the PostgreSQL server binaries when /usr/lib/postgresql/*/bin
# has none (apt-get, through sudo when not root), starts one server as the
# postgres user in a temporary directory on a free loopback port (fsync off:
# the data is thrown away), exports its URL as PUBCREDIT_TEST_PG (see
# internal/store/postgres/pgtest), checks that gofmt has nothing to change,
# runs `go vet ./...` and
# `go test ./... "$@"` (without ./... when the arguments name packages),
# then stops the server and removes the directory.
# It exits with go test's status.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "test.sh: need root (or sudo) to run: $*" >&2
		return 1
	fi
}

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	echo "test.sh: installing the PostgreSQL server" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
fi
bin=$(dirname "$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pubcredit-pg.XXXXXX")
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
	# PostgreSQL refuses to run as root.
	chown postgres: "$tmp"
	as_pg=(runuser -u postgres --)
fi
cleanup() {
	if [ -f "$tmp/data/postmaster.pid" ]; then
		"${as_pg[@]}" "$bin/pg_ctl" stop -D "$tmp/data" -m fast -w -t 60 >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! "${as_pg[@]}" "$bin/initdb" -D "$tmp/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1; then
	cat "$tmp/initdb.log" >&2
	exit 1
fi

# A port nothing listens on; should another process take it before the
# server does, try another.
started=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	port=$((20000 + RANDOM % 40000))
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		continue
	fi
	if "${as_pg[@]}" "$bin/pg_ctl" start -D "$tmp/data" -w -t 60 -l "$tmp/server.log" \
		-o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null; then
		started=1
		break
	fi
done
if [ -z "$started" ]; then
	echo "test.sh: could not start PostgreSQL:" >&2
	cat "$tmp/server.log" >&2 || true
	exit 1
fi
export PUBCREDIT_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "test.sh: $("$bin/postgres" --version) on 127.0.0.1:$port" >&2

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "test.sh: not gofmt-formatted:" $unformatted >&2
	exit 1
fi
go vet ./...
# Test ./... unless the arguments name packages of their own.
pkgs=(./...)
for arg in "$@"; do
	case $arg in
	. | ./* | ../* | pubcredit | pubcredit/*) pkgs=() ;;
	esac
done
status=0
go test "${pkgs[@]}" "$@" || status=$?
exit "$status"
