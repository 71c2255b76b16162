#!/bin/sh
# on-full-disk.sh SIZE DIR COMMAND [ARGS...]
# Runs COMMAND with a fresh tmpfs of SIZE bytes mounted on DIR, in a user
# and mount namespace of its own (no root needed): a disk that fills up.
# The tmpfs and what is on it vanish when COMMAND ends, so COMMAND itself
# lists what a failure left behind.
size=$1 dir=$2
shift 2
exec unshare -rm sh -c 'mount -t tmpfs -o size="$0" tmpfs "$1" && shift && exec "$@"' "$size" "$dir" "$@"
