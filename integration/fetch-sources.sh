#!/usr/bin/env bash
# fetch-sources.sh - the Debian source packages the package tests build
# (integration/packages_test.go), unpacked once into a world-readable cache.
#
#   sudo integration/fetch-sources.sh            # both steps below
#   integration/fetch-sources.sh apt-setup       # root: add deb-src entries if missing
#   integration/fetch-sources.sh fetch           # download and unpack (root not needed
#                                                # when the cache dir is writable)
#
# apt-setup mirrors the Debian archive's `deb` entries as `deb-src` ones, from
# either format: one-line entries (/etc/apt/sources.list) go to
# /etc/apt/sources.list.d/vroot-deb-src.list, deb822 stanzas
# (/etc/apt/sources.list.d/debian.sources, Debian 12's default) go to
# /etc/apt/sources.list.d/vroot-deb-src.sources. Nothing is written when a
# deb-src entry for a Debian archive is already configured. It prints
# "changed" when it wrote a file (the caller must then run apt-get update;
# the default mode runs it).
#
# fetch unpacks, with `apt-get source --download-only` then `dpkg-source -x`,
# into $VROOT_TEST_SOURCES (default /var/cache/vroot-test-sources):
#   hello/   GNU hello, Debian's patches applied (there are none in 2.10-3)
#   zlib/    zlib, Debian's patches applied (they touch contrib/minizip only)
#   lua5.4/  lua 5.4 WITHOUT Debian's patches (--skip-patches): Debian's
#            0001-build-system replaces the upstream Makefiles by a libtool build
#            that installs under debian/tmp, and 0002 includes a header that only
#            debian/rules generates. The tests build upstream's plain Makefile
#            (`make linux`, `make install INSTALL_TOP=...`), i.e. the orig tarball.
# Each package dir is unpacked beside the cache and renamed into place, so a
# package dir that exists is complete: a second run does nothing.
# Needs dpkg-dev (apt-get source, dpkg-source) and deb-src entries.
set -euo pipefail

CACHE=${VROOT_TEST_SOURCES:-/var/cache/vroot-test-sources}
PACKAGES=(hello zlib lua5.4)

die() { echo "fetch-sources: $*" >&2; exit 1; }

# A Debian archive URI: deb.debian.org/debian, security.debian.org/debian-security,
# a mirror's .../debian/, snapshot.debian.org/archive/debian/<date>/, ...
DEBIAN_URI='/debian(-security)?(/[0-9TZ]+)?/?([[:space:]]|$)'

# debian_stanzas TYPE FILE: the enabled deb822 stanzas of FILE whose Types
# has TYPE and whose URIs name a Debian archive (field names matched without
# case, as apt does; mawk has no IGNORECASE).
debian_stanzas() {
	awk -v want="$1" -v uri="$DEBIAN_URI" 'BEGIN { RS = ""; ORS = "\n\n" }
	{
		n = split($0, line, "\n"); types = ""; uris = ""; enabled = 1
		for (i = 1; i <= n; i++) {
			l = tolower(line[i])
			if (l ~ /^types:/) { types = " " substr(line[i], 7) " " }
			else if (l ~ /^uris:/) { uris = substr(line[i], 6) " " }
			else if (l ~ /^enabled:[ \t]*no/) { enabled = 0 }
		}
		gsub(/[ \t]+/, " ", types)
		if (enabled && index(types, " " want " ") && uris ~ uri) print
	}' "$2"
}

# has_debian_deb_src: a deb-src entry for a Debian archive is configured.
has_debian_deb_src() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		grep -qE "^[[:space:]]*deb-src[[:space:]].*$DEBIAN_URI" "$f" && return 0
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		[ -n "$(debian_stanzas deb-src "$f")" ] && return 0
	done
	return 1
}

apt_setup() {
	if has_debian_deb_src; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "no deb-src entry for the Debian archive, and adding one needs root"
	local wrote=0 f out
	# One-line format: every active `deb` line of a Debian archive becomes a
	# `deb-src` line (options such as [signed-by=...] kept).
	f=/etc/apt/sources.list
	if [ -r "$f" ]; then
		out=$(grep -E "^[[:space:]]*deb[[:space:]].*$DEBIAN_URI" "$f" | sed 's/^[[:space:]]*deb\([[:space:]]\)/deb-src\1/' || true)
		if [ -n "$out" ]; then
			printf '# Written by integration/fetch-sources.sh (vroot): deb-src twins of %s.\n%s\n' "$f" "$out" \
				>/etc/apt/sources.list.d/vroot-deb-src.list
			wrote=1
		fi
	fi
	# deb822 format: each enabled Debian stanza whose Types has `deb` is
	# repeated with Types: deb-src (URIs, Suites, Components, Signed-By kept).
	f=/etc/apt/sources.list.d/debian.sources
	if [ -r "$f" ]; then
		out=$(debian_stanzas deb "$f" | sed 's/^[Tt][Yy][Pp][Ee][Ss]:.*/Types: deb-src/')
		if [ -n "$out" ]; then
			printf '# Written by integration/fetch-sources.sh (vroot): deb-src twins of %s.\n\n%s\n' "$f" "$out" \
				>/etc/apt/sources.list.d/vroot-deb-src.sources
			wrote=1
		fi
	fi
	[ "$wrote" = 1 ] || die "no Debian deb entry in /etc/apt/sources.list or /etc/apt/sources.list.d/debian.sources to mirror"
	echo changed
}

fetch() {
	command -v dpkg-source >/dev/null || die "dpkg-source not found: apt-get install dpkg-dev"
	mkdir -p "$CACHE/dl"
	local p dsc tmp log
	log=$(mktemp)
	trap 'rm -f "$log"' RETURN
	for p in "${PACKAGES[@]}"; do
		[ -d "$CACHE/$p" ] && continue
		# The download is kept: a rerun after a failed unpack does not refetch.
		dsc=$(ls "$CACHE/dl/${p}"_*.dsc 2>/dev/null | head -1 || true)
		if [ -z "$dsc" ]; then
			# apt checks the files against the signed Sources index. As root it
			# would drop to _apt, which cannot write the cache dir: stay root.
			(cd "$CACHE/dl" && apt-get source --download-only -q -o APT::Sandbox::User=root "$p") >"$log" 2>&1 || {
				cat "$log" >&2
				die "apt-get source $p failed (deb-src entries? run: sudo $0)"
			}
			dsc=$(ls "$CACHE/dl/${p}"_*.dsc | head -1)
		fi
		# dpkg-source leaves a link to the orig tarball beside the tree it
		# unpacks: unpack in a scratch parent, then rename into place.
		tmp=$CACHE/.unpack
		rm -rf "$tmp"
		mkdir "$tmp"
		local skip=()
		[ "$p" = lua5.4 ] && skip=(--skip-patches)
		# (The .dsc signature cannot be checked without debian-keyring: a
		# warning only; the hashes were checked by apt against the archive.)
		dpkg-source -x "${skip[@]}" "$dsc" "$tmp/$p" >"$log" 2>&1 || {
			cat "$log" >&2
			die "dpkg-source -x $dsc failed"
		}
		basename "$dsc" >"$tmp/$p/.vroot-dsc"
		chmod -R a+rX "$tmp/$p"
		mv "$tmp/$p" "$CACHE/$p"
		rm -rf "$tmp"
		echo "fetch-sources: $p: $(basename "$dsc") -> $CACHE/$p"
	done
	chmod a+rx "$CACHE" "$CACHE/dl"
}

case ${1:-all} in
apt-setup) apt_setup ;;
fetch) fetch ;;
all)
	changed=$(apt_setup)
	if [ -n "$changed" ]; then
		apt-get update -qq
	fi
	fetch
	;;
*) die "usage: $0 [apt-setup|fetch|all]" ;;
esac
