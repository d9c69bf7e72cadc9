package tracer

import (
	"syscall"

	"github.com/vroot-dev/vroot/redirect"
)

// Kind says how the engine treats a syscall.
type Kind uint8

const (
	// KindAllow: carries no path, the filter lets it through untraced.
	KindAllow Kind = iota
	// KindPath: has path arguments described by Sysent.Paths; traced, and
	// each path is translated at the seccomp stop.
	KindPath
	// KindSpecial: traced and handled by a dedicated function of the
	// engine (getcwd, fchdir, openat2, execveat, bind/connect, clone3, ...).
	KindSpecial
	// KindRefuse: the filter itself returns Sysent.Errno (ENOSYS for what
	// vroot cannot translate so libc falls back, EPERM for mount & co).
	KindRefuse
	// KindSucceed: the filter itself makes the call return 0 without
	// running it (SECCOMP_RET_ERRNO with data 0): --fakeroot's getuid and
	// set*id family, no stop at all.
	KindSucceed
)

// Follow says when the last component of a path argument is followed if it
// is a symlink.
type Follow uint8

const (
	// FollowAlways: stat, open without O_NOFOLLOW handled by FollowOpen, ...
	FollowAlways Follow = iota
	// FollowNever: lstat, readlink, unlink, rmdir, rename, symlink's link path...
	FollowNever
	// FollowUnlessFlag: follows unless Sysent.FlagsArg has NoFollowBit
	// (AT_SYMLINK_NOFOLLOW for fstatat/fchownat/utimensat/statx/...).
	FollowUnlessFlag
	// FollowIfFlag: follows only if Sysent.FlagsArg has FollowBit
	// (AT_SYMLINK_FOLLOW for linkat's old path).
	FollowIfFlag
	// FollowOpen: open flags: not followed with O_NOFOLLOW, nor with
	// O_CREAT|O_EXCL.
	FollowOpen
)

// PathArg describes one path argument.
type PathArg struct {
	// Arg is the index (0..5) of the pointer argument.
	Arg int8
	// Dirfd is the index of the dirfd argument, or -1 (relative to cwd).
	Dirfd int8
	// Op is the access class of this path.
	Op redirect.Op
	// Follow is the rule for the last component.
	Follow Follow
	// Bit is the flag bit tested for FollowUnlessFlag/FollowIfFlag.
	Bit uint32
	// OpenFlags: Op is decided by the open flags in FlagsArg (O_WRONLY,
	// O_RDWR, O_TRUNC -> OpWrite; O_CREAT -> OpCreate; else OpRead).
	OpenFlags bool
	// EmptyPathBit: the flag bit (AT_EMPTY_PATH) that, with an empty
	// string, makes the call operate on the dirfd itself (no translation).
	EmptyPathBit uint32
	// NullIsFd: a NULL pointer makes the call operate on the dirfd itself
	// (utimensat and futimesat: futimens). The filter then traces the call
	// even with a NULL path, so that a write through a read-only fd of a
	// lower file acts on its staged copy (hostile.go).
	NullIsFd bool
}

// Sysent is one row of an architecture's syscall table.
type Sysent struct {
	Nr   int
	Name string
	Kind Kind
	// Paths lists the path arguments (KindPath), in argument order.
	Paths []PathArg
	// FlagsArg is the index of the flags argument, or -1.
	FlagsArg int8
	// Errno is returned by the filter for KindRefuse.
	Errno syscall.Errno
	// Exit asks for a syscall-exit stop (the result must be mapped back or
	// the engine must record the effect: getcwd, readlink*, chdir, fchdir).
	Exit bool
	// TraceIfArgs, for a KindSpecial row, is a mask of argument indexes
	// (bit i for argument i): when non-zero, the filter traces the call
	// only if one of those arguments is non-zero and allows it untraced
	// otherwise. sendto names a destination only through argument 4, which
	// glibc's send() leaves NULL: a send on a connected socket must not
	// cost a stop. KindPath rows leave it zero: the filter derives their
	// mask from Paths (a NULL path pointer names nothing to translate).
	TraceIfArgs uint8
}

// moves reports whether the row renames (its first path is the source).
func (s *Sysent) moves() bool {
	return len(s.Paths) == 2 && s.Paths[0].Op == redirect.OpMove
}
