# Shared shell helpers: a throwaway PostgreSQL server with the extension
# staged (not installed system-wide) and preloaded.  Source this file.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGBIN=$("$PG_CONFIG" --bindir)
PGXS_DIR=$(dirname "$("$PG_CONFIG" --pgxs)")/../..
export PATH="$PGBIN:$PATH"

# Runs a command as the server's OS user: postgres when we are root.
as_pg() {
	if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Creates the work directory $FS_WORK, stages the built extension into it and
# starts a server there.  Extra postgresql.conf lines may be passed as args.
fs_start_server() {
	FS_WORK=$(mktemp -d /tmp/feature_store.XXXXXX)
	chmod 755 "$FS_WORK"
	# The same build as the caller's: make test stages the test build (FS_DEV=1:
	# warnings as errors, assertions on), demo and bench the users' build.
	make -s -C "$REPO" install DESTDIR="$FS_WORK/stage" FS_DEV="${FS_DEV:-}" >/dev/null
	local libdir
	libdir=$("$PG_CONFIG" --pkglibdir)
	mkdir -p "$FS_WORK/sock"
	[[ $(id -u) == 0 ]] && chown -R postgres: "$FS_WORK"
	# the postgres user may not be able to enter the current directory
	cd "$FS_WORK"
	as_pg initdb -D "$FS_WORK/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$FS_WORK/initdb.log"
	FS_PORT=$((20000 + RANDOM % 20000))
	{
		echo "port = $FS_PORT"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$FS_WORK/sock'"
		echo "extension_destdir = '$FS_WORK/stage'"
		echo "dynamic_library_path = '$FS_WORK/stage$libdir:\$libdir'"
		echo "shared_preload_libraries = 'feature_store'"
		echo "feature_store.database = 'postgres'"
		echo "fsync = off"
		echo "max_worker_processes = 16"
		echo "log_min_messages = warning"
		for line in "$@"; do echo "$line"; done
	} | as_pg tee -a "$FS_WORK/data/postgresql.conf" >/dev/null
	as_pg pg_ctl -D "$FS_WORK/data" -l "$FS_WORK/server.log" -w start >/dev/null
	cd "$OLDPWD"
	export PGHOST="$FS_WORK/sock" PGPORT=$FS_PORT PGUSER=postgres PGDATABASE=postgres
	export FS_WORK FS_PORT
}

# Stops the server and removes the work directory unless asked to keep it.
fs_stop_server() {
	[[ -n ${FS_WORK:-} && -d $FS_WORK ]] || return 0
	(cd "$FS_WORK" && as_pg pg_ctl -D "$FS_WORK/data" -m fast -w stop >/dev/null 2>&1) || true
	if [[ -z ${FS_KEEP:-} ]]; then rm -rf "$FS_WORK"; fi
}
