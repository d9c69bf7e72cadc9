package redirect

import (
	"syscall"
	"testing"
)

// The hot path: gcc stats and readlinks headers in a few include
// directories, thousands of times.
const benchHeader = "/usr/include/x86_64-linux-gnu/bits/types.h"

func benchTrees(b *testing.B) (sdk, host string) {
	host = mkTree(b, "usr/include/x86_64-linux-gnu/bits/types.h", "usr/lib/libz.so.1", "lib->usr/lib")
	sdk = mkTree(b, "usr/include/zlib.h", "usr/lib/libz.so->libz.so.1", "usr/lib/libz.so.1")
	return sdk, host
}

func benchResolve(b *testing.B, r *Resolver, req Request) {
	b.Helper()
	if a := r.Resolve(req); a.Errno != 0 {
		b.Fatalf("%s: %v", req.Path, a.Errno)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.Resolve(req)
	}
}

// BenchmarkResolveCached: the directory is cached, only the last component
// costs anything.
func BenchmarkResolveCached(b *testing.B) {
	sdk, host := benchTrees(b)
	b.Run("identity", func(b *testing.B) {
		// No lstat at all: the kernel resolves the last component.
		r := newResolver(b, Options{}, grant("/"))
		benchResolve(b, r, Request{Path: host + benchHeader, Follow: true})
	})
	b.Run("one-layer", func(b *testing.B) {
		r := newResolver(b, Options{}, redirect("/", host))
		benchResolve(b, r, Request{Path: benchHeader, Follow: true})
	})
	b.Run("sdk-top", func(b *testing.B) {
		r := newResolver(b, Options{}, redirect("/", sdk, host))
		benchResolve(b, r, Request{Path: "/usr/include/zlib.h", Follow: true})
	})
	b.Run("sdk-lower", func(b *testing.B) {
		// Missing from the top layer: two lstats.
		r := newResolver(b, Options{}, redirect("/", sdk, host))
		benchResolve(b, r, Request{Path: benchHeader, Follow: true})
	})
	b.Run("one-layer-nofollow", func(b *testing.B) {
		// lstat, readlink, lgetxattr: nothing to look up at all.
		r := newResolver(b, Options{}, redirect("/", host))
		benchResolve(b, r, Request{Path: benchHeader, Follow: false})
	})
	b.Run("sdk-symlink", func(b *testing.B) {
		// libz.so -> libz.so.1: lstat, readlink, lstat.
		r := newResolver(b, Options{}, redirect("/", sdk, host))
		benchResolve(b, r, Request{Path: "/usr/lib/libz.so", Follow: true})
	})
	b.Run("sdk-through-dir-link", func(b *testing.B) {
		// /lib -> usr/lib is in the cached directory, not paid again.
		r := newResolver(b, Options{}, redirect("/", sdk, host))
		benchResolve(b, r, Request{Path: "/lib/libz.so.1", Follow: true})
	})
	b.Run("stage-lower", func(b *testing.B) {
		// With a stage that does not have the directory: one lstat, as
		// without one (the whiteout check is an atomic load).
		r := newResolver(b, Options{Stage: newStage(b)}, redirect("/", host))
		benchResolve(b, r, Request{Path: benchHeader, Follow: true})
	})
	b.Run("stage-staged-dir", func(b *testing.B) {
		// The stage has the directory, not the name, and there are
		// whiteouts: lstat in the stage, a whiteout lookup, lstat below.
		s := newStage(b, "usr/include/x86_64-linux-gnu/bits/other.h")
		s.record(false, rec{'W', "/usr/include/x86_64-linux-gnu/bits/gone.h"})
		r := newResolver(b, Options{Stage: s}, redirect("/", host))
		benchResolve(b, r, Request{Path: benchHeader, Follow: true})
	})
	b.Run("sdk-parallel", func(b *testing.B) {
		r := newResolver(b, Options{}, redirect("/", sdk, host))
		req := Request{Path: benchHeader, Follow: true}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Resolve(req)
			}
		})
	})
}

// BenchmarkResolveUncached: what each Invalidate costs the next request,
// a walk of every component.
func BenchmarkResolveUncached(b *testing.B) {
	sdk, host := benchTrees(b)
	r := newResolver(b, Options{}, redirect("/", sdk, host))
	req := Request{Path: benchHeader, Follow: true}
	b.ReportAllocs()
	for b.Loop() {
		r.Invalidate("/")
		r.Resolve(req)
	}
}

// BenchmarkLstat is the yardstick: the kernel's own lstat of the host path.
func BenchmarkLstat(b *testing.B) {
	_, host := benchTrees(b)
	var st syscall.Stat_t
	p := host + benchHeader
	for b.Loop() {
		syscall.Lstat(p, &st)
	}
}
