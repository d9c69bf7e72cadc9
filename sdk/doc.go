// Package sdk inspects and assembles the trees that `vroot --sdk DIR` layers
// over the host: Check says what an SDK provides and what looks wrong in it,
// Create unpacks Debian binary packages into one without root.
//
// # What --sdk does
//
// `vroot --sdk DIR -- make` runs the build with the shipped profile "sdk"
// (configs/sdk.toml) and ${SDK} = DIR. That profile includes "default" and
// layers DIR over the host for the prefixes where a compiler, a linker,
// pkg-config, autoconf and CMake look for the target's headers and
// libraries: a read of /usr/include/zlib.h is served from DIR/usr/include
// if the SDK has it, else from the host. The host's tools stay the host's:
// /usr/bin and /usr/libexec are not layered, and the tools' private
// directories under the layered /usr/lib (/usr/lib/gcc, /usr/lib/gcc-cross,
// binutils' ldscripts and bfd-plugins, python's and perl's module
// directories) are served from the host only, even if the SDK has them. Symlinks in the SDK resolve in the guest view: an SDK's
// /usr/lib/x86_64-linux-gnu/libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13
// follows the SDK's /lib, not the host's. Nothing is written into the SDK.
//
// # How a cross compiler's search paths meet the SDK
//
// Measured with Debian 12's gcc-aarch64-linux-gnu 12.2.0 (installed
// without recommends, so without libc6-dev-arm64-cross), which is configured
// with --with-sysroot=/ --enable-multiarch
// --includedir=/usr/aarch64-linux-gnu/include. `aarch64-linux-gnu-gcc -v -E
// - </dev/null` searches, in order, and drops from the list every directory
// that does not exist when it starts:
//
//	/usr/local/include/aarch64-linux-gnu                   (multiarch, local)
//	/usr/lib/gcc-cross/aarch64-linux-gnu/12/include        (gcc's own: stddef.h, arm_neon.h)
//	/usr/lib/gcc-cross/aarch64-linux-gnu/12/include-fixed
//	/usr/aarch64-linux-gnu/include                         (the *-cross packages' layout)
//	/usr/include/aarch64-linux-gnu                         (multiarch: Debian's arm64 -dev packages)
//	/usr/include
//
// and `-print-search-dirs` gives the startfile and library path (crt1.o,
// -lc, -lz):
//
//	/usr/lib/gcc-cross/aarch64-linux-gnu/12/               (crtbegin.o, libgcc.a, libgcc_s.so)
//	/usr/aarch64-linux-gnu/lib/aarch64-linux-gnu/, /usr/aarch64-linux-gnu/lib/
//	/lib/aarch64-linux-gnu/, /usr/lib/aarch64-linux-gnu/   (multiarch)
//	/lib/, /usr/lib/
//
// So the cross compiler already looks in the multiarch directories where
// Debian's arm64 packages unpack (libc6-dev:arm64 puts crt1.o and libc.so in
// /usr/lib/aarch64-linux-gnu and the arch-specific headers in
// /usr/include/aarch64-linux-gnu; zlib1g-dev:arm64 puts zlib.h in
// /usr/include), but on a host without arm64 libraries those directories do
// not exist. Under --sdk they exist in the guest view: the gcc driver and cc1
// run traced, their stat of /usr/include/aarch64-linux-gnu is answered from
// the SDK, and the directory stays in the list. No --sysroot, no -I, no -L:
// `vroot --sdk sdk -- make CC=aarch64-linux-gnu-gcc` builds. Three details
// make it right rather than lucky:
//
//   - /usr/include is still searched last, and there the SDK comes first but
//     the host fills in: a header the SDK lacks is taken from the host's
//     /usr/include, which is only right for arch-independent headers. The
//     arch-specific ones (bits/, asm/, gnu/stubs-*.h) live under the
//     triplet directory, which the cross compiler reads from the SDK only
//     (the host has /usr/include/x86_64-linux-gnu, never searched for
//     aarch64). A missing linux-libc-dev:arm64 therefore fails loudly
//     (asm/types.h not found) instead of mixing architectures.
//   - /usr/aarch64-linux-gnu/lib is searched before the multiarch
//     directories. Debian's cross gcc depends on libc6-arm64-cross, which
//     puts libc.so.6 and libgcc_s.so.1 (but no libc.so, crt1.o or headers)
//     there, so -lc finds the SDK's libc.so linker script, and the objects
//     it names by absolute path (/lib/aarch64-linux-gnu/libc.so.6,
//     /usr/lib/aarch64-linux-gnu/libc_nonshared.a,
//     /lib/ld-linux-aarch64.so.1) are read through the guest view, from the
//     SDK. What `-Wl,--trace` shows for a program linking zlib: Scrt1.o,
//     crti.o, libz.so, libc.so, libc.so.6 and libc_nonshared.a from the SDK
//     (as /lib/aarch64-linux-gnu/..., through the SDK's lib -> usr/lib);
//     crtbeginS.o, libgcc.a and libgcc_s.so from gcc-cross; libgcc_s.so.1
//     from the host's /usr/aarch64-linux-gnu/lib, the cross toolchain's own
//     runtime. That directory is not layered: it belongs to the toolchain
//     (an SDK in the *-cross packages' layout, usr/aarch64-linux-gnu/, needs
//     a rule of its own).
//   - gcc's private directories (/usr/lib/gcc-cross/...: crtbegin.o,
//     libgcc.a, stddef.h) stay the host's, so an SDK that carries another
//     gcc's libgcc-dev cannot mix two compilers' runtime files.
//
// The native compiler (x86_64-linux-gnu-gcc) has the same shape: it
// searches /usr/include/x86_64-linux-gnu and /usr/include (plus
// /usr/local/include), /usr/lib/x86_64-linux-gnu and /lib/x86_64-linux-gnu,
// so a host-arch SDK made of -dev packages the host lacks (libcjson-dev)
// adds their headers and libraries, and one carrying a changed header shadows
// the host's.
//
// # The dynamic loader
//
// A program built against a host-arch SDK runs under --sdk too: the kernel
// opens the ELF interpreter by host path, but every library the loader then
// opens goes through the tracer. A library that the host's /etc/ld.so.cache
// does not list is searched in the default directories
// (/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, ...), which the guest
// view serves from the SDK first. The flip side: the host's tools also run
// under --sdk, so an SDK that carries a C library (or any other shared
// library) for the host's own triplet is loaded by the compiler and make as
// well. Check warns about a host-triplet libc.
//
// # Layout
//
// Debian 12 hosts have a merged /usr (/lib -> usr/lib), but bookworm's
// packages still ship files under /lib. Create merges them as the host is
// merged (lib/x -> usr/lib/x, and DIR/lib -> usr/lib), so that the SDK's /lib
// and /usr/lib are one directory in the guest view, as they are on the
// host. An SDK with a real lib directory works too, but under --sdk its /lib
// replaces the host's entirely (a directory over a symlink ends the merge, as
// in overlayfs): host programs still load their libraries, through the
// loader's fallback to /usr/lib; Check notes it.
//
// # Create
//
// Create runs `apt-get download NAME:ARCH...` in a temporary directory and
// `dpkg-deb -x` on each package: no root, no maintainer scripts, nothing
// registered on the host. It needs apt's package lists for ARCH: for a
// foreign architecture an administrator must once run
// `dpkg --add-architecture ARCH && apt-get update`; Create says so when
// they are missing. Only the named packages are unpacked; WithDeps adds
// their dependencies as `apt-cache depends --recurse --no-recommends
// --no-suggests` lists them (Depends and Pre-Depends), keeping the packages
// of ARCH and the Architecture: all ones. What was unpacked is recorded in
// DIR/var/lib/dpkg/status (Status: install ok unpacked), where Check reads it
// back, as it does for a debootstrap tree.
package sdk
