package tracer

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

// noFlags is FlagsArg for a row whose rules test no flags argument. It is
// spelt out in every row because FlagsArg's zero value is argument 0.
const noFlags int8 = -1

// The path-argument constructors below make every row state its dirfd: a
// PathArg literal that forgot Dirfd would silently say "relative to
// argument 0".

// pathArgCwd is a path argument resolved against the cwd (the legacy
// non-*at calls).
func pathArgCwd(arg int8, op redirect.Op, f Follow) PathArg {
	return PathArg{Arg: arg, Dirfd: -1, Op: op, Follow: f}
}

// pathArgAt is a path argument resolved against the dirfd in argument dirfd.
func pathArgAt(dirfd, arg int8, op redirect.Op, f Follow) PathArg {
	return PathArg{Arg: arg, Dirfd: dirfd, Op: op, Follow: f}
}

// pathArgAtFlags is the common shape of the *at calls that take AT_*
// flags: the last component is followed unless AT_SYMLINK_NOFOLLOW, and an
// empty path with AT_EMPTY_PATH means the dirfd itself (newfstatat, statx,
// fchownat, utimensat, faccessat2, fchmodat2, the *xattrat calls,
// file_getattr/file_setattr).
func pathArgAtFlags(dirfd, arg int8, op redirect.Op) PathArg {
	return PathArg{Arg: arg, Dirfd: dirfd, Op: op, Follow: FollowUnlessFlag,
		Bit: unix.AT_SYMLINK_NOFOLLOW, EmptyPathBit: unix.AT_EMPTY_PATH}
}

// nullIsFd marks a path argument whose NULL value means the dirfd itself.
func nullIsFd(pa PathArg) PathArg {
	pa.NullIsFd = true
	return pa
}

// pathArgOpen is the path of open/openat: the open flags decide both the
// access class and whether the last component is followed.
func pathArgOpen(dirfd, arg int8) PathArg {
	return PathArg{Arg: arg, Dirfd: dirfd, Op: redirect.OpRead, Follow: FollowOpen, OpenFlags: true}
}

// sysentByNr is the table indexed by syscall number: the seccomp stop looks
// its row up in O(1) without allocating.
var sysentByNr = indexTable(table)

// indexTable builds the dense index. A number listed twice is a bug in the
// static table: it panics at init rather than let one row shadow another.
func indexTable(t []Sysent) []*Sysent {
	hi := -1
	for i := range t {
		if t[i].Nr < 0 {
			panic(fmt.Sprintf("tracer: syscall table: %s has a negative number", t[i].Name))
		}
		if t[i].Nr > hi {
			hi = t[i].Nr
		}
	}
	idx := make([]*Sysent, hi+1)
	for i := range t {
		if idx[t[i].Nr] != nil {
			panic(fmt.Sprintf("tracer: syscall table: %d is both %s and %s", t[i].Nr, idx[t[i].Nr].Name, t[i].Name))
		}
		idx[t[i].Nr] = &t[i]
	}
	return idx
}

// lookupSysent returns the table row of syscall nr, or nil if the table
// has none (a number the filter allows untraced or refuses by default).
// The row is shared: callers must not modify it.
func lookupSysent(nr int) *Sysent {
	if uint(nr) < uint(len(sysentByNr)) {
		return sysentByNr[nr]
	}
	return nil
}

// noPathByNr marks the numbers known to carry no path.
var noPathByNr = func() []bool {
	hi := 0
	for _, nr := range noPath {
		if nr > hi {
			hi = nr
		}
	}
	b := make([]bool, hi+1)
	for _, nr := range noPath {
		b[nr] = true
	}
	return b
}()

// isNoPath reports whether nr is known to carry no path.
func isNoPath(nr int) bool { return nr >= 0 && nr < len(noPathByNr) && noPathByNr[nr] }
