#!/bin/sh
# Makes the example config tree and its backend module as local git
# repositories, so examples/releng-buildmaster.yaml builds without the
# internet:
#
#   DIR/apache_backend.git   the backend module, tagged 1.2.0 (plus a later,
#                            unreleased commit that the tree must not get)
#   DIR/puppet-tree.git      the config tree, tagged 0.1.0 (plus a later
#                            commit), its Puppetfile pinning the module
#
# Usage: setup.sh [DIR]   (default /var/tmp/bakery-examples)
# Commit dates are fixed, so the commit ids are the same on every machine.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-/var/tmp/bakery-examples}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GIT_AUTHOR_NAME=releng GIT_AUTHOR_EMAIL=releng@example.invalid
export GIT_COMMITTER_NAME=releng GIT_COMMITTER_EMAIL=releng@example.invalid
export GIT_AUTHOR_DATE=2026-11-01T12:00:00Z GIT_COMMITTER_DATE=2026-11-01T12:00:00Z
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"

# repo NAME SRC TAG: commit SRC as NAME, tag it, add a later commit and
# publish it as the bare repository DIR/NAME.git.
repo() {
	name=$1 src=$2 tag=$3
	git init --quiet --initial-branch=main "$work/$name"
	cp -R "$src/." "$work/$name/"
	git -C "$work/$name" add -A
	git -C "$work/$name" commit --quiet -m "$name $tag"
	git -C "$work/$name" tag -a -m "release $tag" "$tag"
	echo "work after $tag, not released" > "$work/$name/UNRELEASED"
	git -C "$work/$name" add UNRELEASED
	GIT_COMMITTER_DATE=2026-11-02T12:00:00Z GIT_AUTHOR_DATE=2026-11-02T12:00:00Z \
		git -C "$work/$name" commit --quiet -m "start the next release"
	rm -rf "$dir/$name.git"
	git clone --quiet --bare "$work/$name" "$dir/$name.git"
	echo "$dir/$name.git: $tag = $(git -C "$dir/$name.git" rev-parse "$tag^{commit}")"
}

repo apache_backend "$here/apache_backend" 1.2.0

mkdir "$work/tree-src"
cp -R "$here/tree/." "$work/tree-src/"
sed "s|@GIT@|$dir|" "$here/tree/Puppetfile.in" > "$work/tree-src/Puppetfile"
rm "$work/tree-src/Puppetfile.in"
repo puppet-tree "$work/tree-src" 0.1.0
