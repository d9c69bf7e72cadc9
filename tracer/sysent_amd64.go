package tracer

import (
	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

// auditArch is what seccomp_data.arch says for this ABI. An i386 syscall
// (int 0x80) from a 64-bit process carries AUDIT_ARCH_I386 and is killed
// by the filter; an x32 one carries AUDIT_ARCH_X86_64 with bit 30 of the
// number set, and is killed by the number check.
const auditArch = unix.AUDIT_ARCH_X86_64

// maxSyscall is the highest number golang.org/x/sys knows for this arch.
// Every number up to it is classified below (the table, noPath, or a hole
// the kernel never assigned: 337..423); anything above is refused with
// ENOSYS by the filter, since a future syscall may carry a path.
const maxSyscall = unix.SYS_RSEQ_SLICE_YIELD

// table is the amd64 syscall table: one row per syscall vroot traces or
// refuses. The decisions, and why, are the same on every architecture; they
// are written here, next to the tested table, and sysent_arm64.go follows.
//
// General rules the rows rely on:
//   - A NULL path pointer names nothing the kernel could resolve (it fails
//     with EFAULT, or means "the dirfd itself" for utimensat, the 6.11+
//     statx/newfstatat and the *xattrat/file_*attr calls): the filter does
//     not even trace a KindPath call whose path pointers are all NULL, and
//     the engine skips a NULL one, except where NULL means the fd (NullIsFd:
//     futimens, whose fd may be a read-only one of a lower file).
//   - Only the path arguments are translated. symlink's target is the
//     content of the new link, never a lookup: it is not a path argument.
//   - Flags that do not change what a path means (unlinkat's AT_REMOVEDIR,
//     renameat2's RENAME_*) are still described by FlagsArg so the engine
//     can give the kernel's errno, but they are not a Follow rule.
var table = []Sysent{
	// --- open and create ---------------------------------------------
	{Nr: unix.SYS_OPEN, Name: "open", Kind: KindPath, FlagsArg: 1, Paths: []PathArg{pathArgOpen(-1, 0)}},
	{Nr: unix.SYS_OPENAT, Name: "openat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgOpen(0, 1)}},
	// creat is open(O_CREAT|O_WRONLY|O_TRUNC) with no flags argument:
	// always a create that follows a symlink (no O_EXCL, no O_NOFOLLOW).
	{Nr: unix.SYS_CREAT, Name: "creat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpCreate, FollowAlways)}},
	// openat2's flags and RESOLVE_* rules live in struct open_how, which
	// only the engine can read.
	{Nr: unix.SYS_OPENAT2, Name: "openat2", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_MKDIR, Name: "mkdir", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_MKDIRAT, Name: "mkdirat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_MKNOD, Name: "mknod", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_MKNODAT, Name: "mknodat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpCreate, FollowNever)}},
	// Only the link path (argument 1, resp. 2) is a path: the target is
	// the content of the new symlink.
	{Nr: unix.SYS_SYMLINK, Name: "symlink", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(1, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_SYMLINKAT, Name: "symlinkat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(1, 2, redirect.OpCreate, FollowNever)}},
	// link never follows the old path (Linux link(2) = linkat without
	// AT_SYMLINK_FOLLOW); linkat follows it with AT_SYMLINK_FOLLOW and
	// links the dirfd's file with AT_EMPTY_PATH.
	{Nr: unix.SYS_LINK, Name: "link", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{
		pathArgCwd(0, redirect.OpWrite, FollowNever),
		pathArgCwd(1, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_LINKAT, Name: "linkat", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{
		{Arg: 1, Dirfd: 0, Op: redirect.OpWrite, Follow: FollowIfFlag, Bit: unix.AT_SYMLINK_FOLLOW, EmptyPathBit: unix.AT_EMPTY_PATH},
		pathArgAt(2, 3, redirect.OpCreate, FollowNever)}},

	// --- remove and rename -------------------------------------------
	{Nr: unix.SYS_RMDIR, Name: "rmdir", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpDelete, FollowNever)}},
	{Nr: unix.SYS_UNLINK, Name: "unlink", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpDelete, FollowNever)}},
	{Nr: unix.SYS_UNLINKAT, Name: "unlinkat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAt(0, 1, redirect.OpDelete, FollowNever)}},
	{Nr: unix.SYS_RENAME, Name: "rename", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{
		pathArgCwd(0, redirect.OpMove, FollowNever),
		pathArgCwd(1, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_RENAMEAT, Name: "renameat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{
		pathArgAt(0, 1, redirect.OpMove, FollowNever),
		pathArgAt(2, 3, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_RENAMEAT2, Name: "renameat2", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{
		pathArgAt(0, 1, redirect.OpMove, FollowNever),
		pathArgAt(2, 3, redirect.OpCreate, FollowNever)}},

	// --- stat, access, readlink --------------------------------------
	{Nr: unix.SYS_STAT, Name: "stat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowAlways)}},
	{Nr: unix.SYS_LSTAT, Name: "lstat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowNever)}},
	// glibc 2.36's fstat() is newfstatat(fd, "", AT_EMPTY_PATH): traced
	// (the filter cannot read the string), answered by the engine's
	// empty-path rule without translation.
	{Nr: unix.SYS_NEWFSTATAT, Name: "newfstatat", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_STATX, Name: "statx", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_STATFS, Name: "statfs", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowAlways)}},
	{Nr: unix.SYS_ACCESS, Name: "access", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowAlways)}},
	// The faccessat syscall has no flags argument (glibc emulates
	// AT_SYMLINK_NOFOLLOW/AT_EACCESS, or uses faccessat2).
	{Nr: unix.SYS_FACCESSAT, Name: "faccessat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpRead, FollowAlways)}},
	{Nr: unix.SYS_FACCESSAT2, Name: "faccessat2", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	// The result may be a host path (/proc/*/fd/N, cwd, exe): the exit
	// stop maps it back. readlinkat(fd, "") reads the symlink fd itself
	// with no flag (since 2.6.39): the engine must pass an empty path
	// through untranslated for this row although EmptyPathBit is 0.
	{Nr: unix.SYS_READLINK, Name: "readlink", Kind: KindPath, FlagsArg: noFlags, Exit: true, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowNever)}},
	{Nr: unix.SYS_READLINKAT, Name: "readlinkat", Kind: KindPath, FlagsArg: noFlags, Exit: true, Paths: []PathArg{pathArgAt(0, 1, redirect.OpRead, FollowNever)}},

	// --- attributes ---------------------------------------------------
	{Nr: unix.SYS_TRUNCATE, Name: "truncate", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_CHMOD, Name: "chmod", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	// The fchmodat syscall has no flags argument; fchmodat2 (6.6) has.
	{Nr: unix.SYS_FCHMODAT, Name: "fchmodat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_FCHMODAT2, Name: "fchmodat2", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
	{Nr: unix.SYS_CHOWN, Name: "chown", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_LCHOWN, Name: "lchown", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowNever)}},
	{Nr: unix.SYS_FCHOWNAT, Name: "fchownat", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
	{Nr: unix.SYS_UTIME, Name: "utime", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_UTIMES, Name: "utimes", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	// futimesat(fd, NULL, tv) acts on fd, like utimensat.
	{Nr: unix.SYS_FUTIMESAT, Name: "futimesat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{nullIsFd(pathArgAt(0, 1, redirect.OpWrite, FollowAlways))}},
	// utimensat(fd, NULL, ts, 0) is glibc's futimens(): a NULL path means
	// the fd, traced too (a read-only fd of a lower file: hostile.go).
	{Nr: unix.SYS_UTIMENSAT, Name: "utimensat", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{nullIsFd(pathArgAtFlags(0, 1, redirect.OpWrite))}},

	// --- extended attributes (the f* variants take an fd: noPath) ----
	{Nr: unix.SYS_SETXATTR, Name: "setxattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_LSETXATTR, Name: "lsetxattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowNever)}},
	{Nr: unix.SYS_GETXATTR, Name: "getxattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowAlways)}},
	{Nr: unix.SYS_LGETXATTR, Name: "lgetxattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowNever)}},
	{Nr: unix.SYS_LISTXATTR, Name: "listxattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowAlways)}},
	{Nr: unix.SYS_LLISTXATTR, Name: "llistxattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowNever)}},
	{Nr: unix.SYS_REMOVEXATTR, Name: "removexattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_LREMOVEXATTR, Name: "lremovexattr", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowNever)}},
	// 6.13: (dfd, path, at_flags, ...), AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH,
	// NULL path = the fd. Plain *at shapes, so described rather than
	// refused (glibc 2.36 does not use them, but nothing is lost).
	{Nr: unix.SYS_SETXATTRAT, Name: "setxattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
	{Nr: unix.SYS_GETXATTRAT, Name: "getxattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_LISTXATTRAT, Name: "listxattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_REMOVEXATTRAT, Name: "removexattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
	// 6.17: file_getattr/file_setattr(dfd, path, attr, size, at_flags),
	// the FS_IOC_FS[GS]ETXATTR of a path.
	{Nr: unix.SYS_FILE_GETATTR, Name: "file_getattr", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_FILE_SETATTR, Name: "file_setattr", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},

	// --- exec and cwd -------------------------------------------------
	// The kernel resolves the ELF interpreter (PT_INTERP) and a #!
	// interpreter itself, by host path: not arguments, the engine's job.
	{Nr: unix.SYS_EXECVE, Name: "execve", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpExec, FollowAlways)}},
	// execveat: AT_EMPTY_PATH execs the fd (fexecve, memfd), which the
	// engine lets through; otherwise a dirfd-relative path.
	{Nr: unix.SYS_EXECVEAT, Name: "execveat", Kind: KindSpecial, FlagsArg: 4},
	// The exit stop records the new guest cwd only if the kernel agreed.
	{Nr: unix.SYS_CHDIR, Name: "chdir", Kind: KindPath, FlagsArg: noFlags, Exit: true, Paths: []PathArg{pathArgCwd(0, redirect.OpChdir, FollowAlways)}},
	{Nr: unix.SYS_FCHDIR, Name: "fchdir", Kind: KindSpecial, FlagsArg: noFlags, Exit: true},
	// getcwd returns a host path: the engine answers from the guest cwd.
	{Nr: unix.SYS_GETCWD, Name: "getcwd", Kind: KindSpecial, FlagsArg: noFlags, Exit: true},

	// --- other path calls --------------------------------------------
	{Nr: unix.SYS_INOTIFY_ADD_WATCH, Name: "inotify_add_watch", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{
		{Arg: 1, Dirfd: -1, Op: redirect.OpRead, Follow: FollowUnlessFlag, Bit: unix.IN_DONT_FOLLOW}}},
	// acct, swapon and swapoff need CAP_SYS_PACCT/CAP_SYS_ADMIN, so a
	// build gets EPERM from the kernel; traced anyway so that vroot run as
	// root still never hands the kernel an untranslated path.
	{Nr: unix.SYS_ACCT, Name: "acct", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_SWAPON, Name: "swapon", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_SWAPOFF, Name: "swapoff", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},

	// --- sockets: AF_UNIX addresses are paths -------------------------
	// The engine decodes the sockaddr; inet and abstract addresses pass.
	{Nr: unix.SYS_BIND, Name: "bind", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_CONNECT, Name: "connect", Kind: KindSpecial, FlagsArg: noFlags},
	// A datagram sent to a named AF_UNIX socket (syslog(3) to /dev/log on
	// an unconnected socket) must be translated. With a NULL destination
	// (send() on a connected socket) there is nothing to translate: not
	// traced.
	{Nr: unix.SYS_SENDTO, Name: "sendto", Kind: KindSpecial, FlagsArg: noFlags, TraceIfArgs: 1 << 4},
	// msghdr.msg_name is in memory: always traced.
	{Nr: unix.SYS_SENDMSG, Name: "sendmsg", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_SENDMMSG, Name: "sendmmsg", Kind: KindSpecial, FlagsArg: noFlags},

	// --- processes ----------------------------------------------------
	// CLONE_UNTRACED defeats PTRACE_O_TRACE{CLONE,FORK,VFORK}: the engine
	// strips it (clone3: in struct clone_args), and tracks CLONE_FS. An
	// untraced child would not escape anyway (RET_TRACE with no tracer is
	// ENOSYS) but it would break; fork and vfork have no flags: noPath.
	{Nr: unix.SYS_CLONE, Name: "clone", Kind: KindSpecial, FlagsArg: 0},
	{Nr: unix.SYS_CLONE3, Name: "clone3", Kind: KindSpecial, FlagsArg: noFlags},
	// unshare(CLONE_FS) splits the cwd the engine shares between tasks;
	// namespace flags are the engine's to refuse.
	{Nr: unix.SYS_UNSHARE, Name: "unshare", Kind: KindSpecial, FlagsArg: 0},
	// setns into a mount namespace changes root and cwd behind the
	// engine's back. Non-root gets EPERM from the kernel anyway.
	{Nr: unix.SYS_SETNS, Name: "setns", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// A nested filter installed with SECCOMP_FILTER_FLAG_NEW_LISTENER
	// could answer RET_USER_NOTIF, which outranks RET_TRACE, and let its
	// supervisor CONTINUE a path syscall untranslated: the engine refuses
	// the flag. Other filters can only be stricter than vroot's.
	{Nr: unix.SYS_SECCOMP, Name: "seccomp", Kind: KindSpecial, FlagsArg: 1},
	// prctl(PR_SET_DUMPABLE, 0) would hide the tracee's /proc/PID/fd and
	// cwd from vroot (and its memory from process_vm_readv) when vroot is
	// not root: the engine answers it without running it.
	{Nr: unix.SYS_PRCTL, Name: "prctl", Kind: KindSpecial, FlagsArg: noFlags},
	// A tracee is already traced: PTRACE_TRACEME and PTRACE_ATTACH to a
	// sibling fail with EPERM natively; refusing here also keeps a build
	// from attaching to anything else (vroot included).
	{Nr: unix.SYS_PTRACE, Name: "ptrace", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// Another process's memory and fds are ways around the trace: without
	// Yama, a same-user process outside the build is within reach, and
	// another tracee's path buffers or scratch area could be rewritten
	// after vroot checked them. EPERM is the kernel's answer when ptrace
	// access is denied (see tracer/hostile.go for /proc/PID/mem).
	{Nr: unix.SYS_PROCESS_VM_WRITEV, Name: "process_vm_writev", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// pidfd_getfd is traced, not refused by the filter, only to keep the
	// filter's tree as shallow as before (its neighbours are traced):
	// the engine fails it with EPERM (special.go).
	// Metadata changes through an fd: on a read-only fd of a lower host
	// file they would change the host file; the engine moves them to the
	// staged copy (hostile.go).
	{Nr: unix.SYS_FCHMOD, Name: "fchmod", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_FCHOWN, Name: "fchown", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_FSETXATTR, Name: "fsetxattr", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_FREMOVEXATTR, Name: "fremovexattr", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_PIDFD_GETFD, Name: "pidfd_getfd", Kind: KindSpecial, FlagsArg: noFlags},
	// A uprobe perf event carries a path (attr.config1, uprobe_path) the
	// kernel opens. It needs CAP_PERFMON, but vroot may run as root: the
	// engine passes every other event type and must refuse or translate
	// uprobes (without a handler it fails the call: ENOSYS).
	{Nr: unix.SYS_PERF_EVENT_OPEN, Name: "perf_event_open", Kind: KindSpecial, FlagsArg: noFlags},

	// --- refused: the kernel would refuse a build anyway (EPERM) ------
	// chroot and the mount API would change what paths mean behind the
	// engine's back; non-root gets EPERM natively, so EPERM is the errno
	// a build already copes with.
	{Nr: unix.SYS_CHROOT, Name: "chroot", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_MOUNT, Name: "mount", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_UMOUNT2, Name: "umount2", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_PIVOT_ROOT, Name: "pivot_root", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// open_tree without OPEN_TREE_CLONE is an O_PATH open that non-root
	// may do; nothing in a build needs it, so it shares the mount API's
	// answer rather than a translation of its own.
	{Nr: unix.SYS_OPEN_TREE, Name: "open_tree", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_OPEN_TREE_ATTR, Name: "open_tree_attr", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_MOVE_MOUNT, Name: "move_mount", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// fsopen/fsconfig/fsmount carry no lookup path of their own, but
	// fsconfig's "source" may name one and the three only make sense
	// together: refused as a family.
	{Nr: unix.SYS_FSOPEN, Name: "fsopen", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FSCONFIG, Name: "fsconfig", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FSMOUNT, Name: "fsmount", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FSPICK, Name: "fspick", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_MOUNT_SETATTR, Name: "mount_setattr", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// quotactl's "special" argument is a block device (or mount point)
	// path; a build has no business with quotas.
	{Nr: unix.SYS_QUOTACTL, Name: "quotactl", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// Loading code into the kernel: CAP_SYS_MODULE/CAP_SYS_BOOT only.
	{Nr: unix.SYS_INIT_MODULE, Name: "init_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FINIT_MODULE, Name: "finit_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_DELETE_MODULE, Name: "delete_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_KEXEC_LOAD, Name: "kexec_load", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_KEXEC_FILE_LOAD, Name: "kexec_file_load", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// bpf(BPF_OBJ_PIN/BPF_OBJ_GET) names a bpffs path inside union
	// bpf_attr; unprivileged bpf is off by default (EPERM) since 5.16.
	{Nr: unix.SYS_BPF, Name: "bpf", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	// A file handle opens an inode with no path resolution at all; it
	// needs CAP_DAC_READ_SEARCH, so non-root gets EPERM natively.
	{Nr: unix.SYS_OPEN_BY_HANDLE_AT, Name: "open_by_handle_at", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},

	// --- refused so that programs fall back ---------------------------
	// EOPNOTSUPP is what a filesystem without handle support says; its
	// callers (systemd, util-linux: mount-point and identity checks) then
	// fall back to stat/statx, which vroot translates.
	{Nr: unix.SYS_NAME_TO_HANDLE_AT, Name: "name_to_handle_at", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EOPNOTSUPP},
	// io_uring runs openat/statx/renameat/unlinkat/... inside the kernel
	// with no syscall to trap. ENOSYS reads as "no io_uring": liburing
	// users fall back to plain syscalls.
	{Nr: unix.SYS_IO_URING_SETUP, Name: "io_uring_setup", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_IO_URING_ENTER, Name: "io_uring_enter", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_IO_URING_REGISTER, Name: "io_uring_register", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	// fanotify_mark could be described (dirfd 3, path 4, flags 1,
	// FAN_MARK_DONT_FOLLOW), but the events carry fds, file handles and
	// names of host objects vroot would have to map back, and mount or
	// filesystem marks watch the host tree. Unprivileged fanotify exists
	// since 5.13, yet no build needs it: ENOSYS for both calls reads as a
	// kernel without fanotify, and callers fall back to inotify.
	{Nr: unix.SYS_FANOTIFY_INIT, Name: "fanotify_init", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_FANOTIFY_MARK, Name: "fanotify_mark", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	// uselib loads a library by path (a.out era, CONFIG_USELIB);
	// lookup_dcookie returns a host path (removed in 6.9). Both ENOSYS.
	{Nr: unix.SYS_USELIB, Name: "uselib", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_LOOKUP_DCOOKIE, Name: "lookup_dcookie", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},

	// --- not implemented by the kernel (sys_ni_syscall) ---------------
	// The filter gives the kernel's own answer, so that nothing (a module,
	// an old kernel: nfsservctl took export paths until 3.1) can turn one
	// into a path syscall that passes untranslated.
	{Nr: unix.SYS__SYSCTL, Name: "_sysctl", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_CREATE_MODULE, Name: "create_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_GET_KERNEL_SYMS, Name: "get_kernel_syms", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_QUERY_MODULE, Name: "query_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_NFSSERVCTL, Name: "nfsservctl", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_GETPMSG, Name: "getpmsg", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_PUTPMSG, Name: "putpmsg", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_AFS_SYSCALL, Name: "afs_syscall", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_TUXCALL, Name: "tuxcall", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_SECURITY, Name: "security", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_SET_THREAD_AREA, Name: "set_thread_area", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_GET_THREAD_AREA, Name: "get_thread_area", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_EPOLL_CTL_OLD, Name: "epoll_ctl_old", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_EPOLL_WAIT_OLD, Name: "epoll_wait_old", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_VSERVER, Name: "vserver", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
}

// noPath lists every other syscall of the arch: none takes a path, so the
// filter allows them untraced. Calls on an fd act on an object the build
// opened through vroot already.
var noPath = []int{
	// I/O on fds
	unix.SYS_READ, unix.SYS_WRITE, unix.SYS_CLOSE, unix.SYS_FSTAT, unix.SYS_POLL,
	unix.SYS_LSEEK, unix.SYS_IOCTL, unix.SYS_PREAD64, unix.SYS_PWRITE64,
	unix.SYS_READV, unix.SYS_WRITEV, unix.SYS_PIPE, unix.SYS_SELECT, unix.SYS_DUP,
	unix.SYS_DUP2, unix.SYS_SENDFILE, unix.SYS_FCNTL, unix.SYS_FLOCK, unix.SYS_FSYNC,
	unix.SYS_FDATASYNC, unix.SYS_FTRUNCATE, unix.SYS_FSTATFS, unix.SYS_READAHEAD, unix.SYS_FGETXATTR,
	unix.SYS_FLISTXATTR, unix.SYS_FADVISE64, unix.SYS_PSELECT6,
	unix.SYS_PPOLL, unix.SYS_SPLICE, unix.SYS_TEE, unix.SYS_SYNC_FILE_RANGE,
	unix.SYS_VMSPLICE, unix.SYS_FALLOCATE, unix.SYS_DUP3, unix.SYS_PIPE2,
	unix.SYS_PREADV, unix.SYS_PWRITEV, unix.SYS_SYNCFS, unix.SYS_COPY_FILE_RANGE,
	unix.SYS_PREADV2, unix.SYS_PWRITEV2, unix.SYS_CLOSE_RANGE, unix.SYS_CACHESTAT,
	unix.SYS_SYNC, unix.SYS_QUOTACTL_FD,
	// Directory listings read an fd. A directory present in the stage and
	// a lower layer is merged when it is opened (the merged-directory
	// cache), not by trapping getdents.
	unix.SYS_GETDENTS, unix.SYS_GETDENTS64,
	// Asynchronous I/O on fds (not io_uring: that one is refused).
	unix.SYS_IO_SETUP, unix.SYS_IO_DESTROY, unix.SYS_IO_GETEVENTS, unix.SYS_IO_SUBMIT,
	unix.SYS_IO_CANCEL, unix.SYS_IO_PGETEVENTS,
	// Event and notification fds. inotify_add_watch, which takes a path,
	// is in the table; inotify_init only makes the fd.
	unix.SYS_EPOLL_CREATE, unix.SYS_EPOLL_WAIT, unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_PWAIT,
	unix.SYS_EPOLL_CREATE1, unix.SYS_EPOLL_PWAIT2, unix.SYS_SIGNALFD, unix.SYS_SIGNALFD4,
	unix.SYS_TIMERFD_CREATE, unix.SYS_TIMERFD_SETTIME, unix.SYS_TIMERFD_GETTIME,
	unix.SYS_EVENTFD, unix.SYS_EVENTFD2, unix.SYS_INOTIFY_INIT, unix.SYS_INOTIFY_INIT1,
	unix.SYS_INOTIFY_RM_WATCH, unix.SYS_USERFAULTFD,
	// Memory. memfd_create's name only labels /memfd:NAME; memfd_secret
	// has none. process_vm_writev needs ptrace access to its target:
	// vroot keeps itself out of reach by being non-dumpable.
	unix.SYS_MMAP, unix.SYS_MPROTECT, unix.SYS_MUNMAP, unix.SYS_BRK, unix.SYS_MREMAP,
	unix.SYS_MSYNC, unix.SYS_MINCORE, unix.SYS_MADVISE, unix.SYS_MLOCK, unix.SYS_MUNLOCK,
	unix.SYS_MLOCKALL, unix.SYS_MUNLOCKALL, unix.SYS_REMAP_FILE_PAGES, unix.SYS_MBIND,
	unix.SYS_SET_MEMPOLICY, unix.SYS_GET_MEMPOLICY, unix.SYS_MIGRATE_PAGES,
	unix.SYS_MOVE_PAGES, unix.SYS_MLOCK2, unix.SYS_PKEY_MPROTECT, unix.SYS_PKEY_ALLOC,
	unix.SYS_PKEY_FREE, unix.SYS_MEMFD_CREATE, unix.SYS_MEMFD_SECRET, unix.SYS_MEMBARRIER,
	unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_MADVISE,
	unix.SYS_PROCESS_MRELEASE, unix.SYS_SET_MEMPOLICY_HOME_NODE, unix.SYS_MAP_SHADOW_STACK,
	unix.SYS_MSEAL,
	// Signals.
	unix.SYS_RT_SIGACTION, unix.SYS_RT_SIGPROCMASK, unix.SYS_RT_SIGRETURN,
	unix.SYS_RT_SIGPENDING, unix.SYS_RT_SIGTIMEDWAIT, unix.SYS_RT_SIGQUEUEINFO,
	unix.SYS_RT_SIGSUSPEND, unix.SYS_SIGALTSTACK, unix.SYS_KILL, unix.SYS_TKILL,
	unix.SYS_TGKILL, unix.SYS_RT_TGSIGQUEUEINFO, unix.SYS_PAUSE,
	// Processes and threads: fork and vfork have no flags (the ptrace
	// fork events attach the child); clone and clone3 are in the table.
	unix.SYS_FORK, unix.SYS_VFORK, unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_WAIT4,
	unix.SYS_WAITID, unix.SYS_SET_TID_ADDRESS, unix.SYS_SET_ROBUST_LIST,
	unix.SYS_GET_ROBUST_LIST, unix.SYS_RESTART_SYSCALL, unix.SYS_ARCH_PRCTL,
	unix.SYS_PERSONALITY, unix.SYS_MODIFY_LDT, unix.SYS_RSEQ,
	unix.SYS_RSEQ_SLICE_YIELD, unix.SYS_KCMP, unix.SYS_PIDFD_OPEN,
	unix.SYS_PIDFD_SEND_SIGNAL, unix.SYS_GETTID, unix.SYS_GETPID,
	unix.SYS_GETPPID, unix.SYS_GETPGRP, unix.SYS_SETSID, unix.SYS_GETSID, unix.SYS_SETPGID,
	unix.SYS_GETPGID,
	// uprobe/uretprobe are entered from uprobe trampolines the host's
	// tracing tools install; they carry no path.
	unix.SYS_URETPROBE, unix.SYS_UPROBE,
	// Credentials and limits (fakeroot, when it exists, derives its own
	// table from this one).
	unix.SYS_GETUID, unix.SYS_GETGID, unix.SYS_SETUID, unix.SYS_SETGID, unix.SYS_GETEUID,
	unix.SYS_GETEGID, unix.SYS_SETREUID, unix.SYS_SETREGID, unix.SYS_GETGROUPS,
	unix.SYS_SETGROUPS, unix.SYS_SETRESUID, unix.SYS_GETRESUID, unix.SYS_SETRESGID,
	unix.SYS_GETRESGID, unix.SYS_SETFSUID, unix.SYS_SETFSGID, unix.SYS_CAPGET,
	unix.SYS_CAPSET, unix.SYS_UMASK, unix.SYS_GETRLIMIT, unix.SYS_SETRLIMIT,
	unix.SYS_PRLIMIT64, unix.SYS_GETRUSAGE, unix.SYS_TIMES,
	// Scheduling.
	unix.SYS_SCHED_YIELD, unix.SYS_SCHED_SETPARAM, unix.SYS_SCHED_GETPARAM,
	unix.SYS_SCHED_SETSCHEDULER, unix.SYS_SCHED_GETSCHEDULER,
	unix.SYS_SCHED_GET_PRIORITY_MAX, unix.SYS_SCHED_GET_PRIORITY_MIN,
	unix.SYS_SCHED_RR_GET_INTERVAL, unix.SYS_SCHED_SETAFFINITY,
	unix.SYS_SCHED_GETAFFINITY, unix.SYS_SCHED_SETATTR, unix.SYS_SCHED_GETATTR,
	unix.SYS_GETPRIORITY, unix.SYS_SETPRIORITY, unix.SYS_IOPRIO_SET, unix.SYS_IOPRIO_GET,
	unix.SYS_GETCPU,
	// Time.
	unix.SYS_NANOSLEEP, unix.SYS_GETITIMER, unix.SYS_ALARM, unix.SYS_SETITIMER,
	unix.SYS_GETTIMEOFDAY, unix.SYS_SETTIMEOFDAY, unix.SYS_ADJTIMEX, unix.SYS_TIME,
	unix.SYS_TIMER_CREATE, unix.SYS_TIMER_SETTIME, unix.SYS_TIMER_GETTIME,
	unix.SYS_TIMER_GETOVERRUN, unix.SYS_TIMER_DELETE, unix.SYS_CLOCK_SETTIME,
	unix.SYS_CLOCK_GETTIME, unix.SYS_CLOCK_GETRES, unix.SYS_CLOCK_NANOSLEEP,
	unix.SYS_CLOCK_ADJTIME,
	// Futexes.
	unix.SYS_FUTEX, unix.SYS_FUTEX_WAITV, unix.SYS_FUTEX_WAKE, unix.SYS_FUTEX_WAIT,
	unix.SYS_FUTEX_REQUEUE,
	// Sockets. Only the calls that send to an address are traced (bind,
	// connect, sendto, sendmsg, sendmmsg). The addresses accept,
	// getsockname, getpeername and recv* return may show a host path for
	// a socket bound in a staged directory: mapping them back would trap
	// every receive, and builds do not inspect them.
	unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_ACCEPT, unix.SYS_ACCEPT4,
	unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_RECVMMSG, unix.SYS_SHUTDOWN,
	unix.SYS_LISTEN, unix.SYS_GETSOCKNAME, unix.SYS_GETPEERNAME, unix.SYS_SETSOCKOPT,
	unix.SYS_GETSOCKOPT,
	// System V IPC, and POSIX message queues: mq_open/mq_unlink take a
	// name in the mqueue filesystem of the IPC namespace, not a path the
	// build's view resolves.
	unix.SYS_SHMGET, unix.SYS_SHMAT, unix.SYS_SHMCTL, unix.SYS_SHMDT, unix.SYS_SEMGET,
	unix.SYS_SEMOP, unix.SYS_SEMCTL, unix.SYS_SEMTIMEDOP, unix.SYS_MSGGET, unix.SYS_MSGSND,
	unix.SYS_MSGRCV, unix.SYS_MSGCTL, unix.SYS_MQ_OPEN, unix.SYS_MQ_UNLINK,
	unix.SYS_MQ_TIMEDSEND, unix.SYS_MQ_TIMEDRECEIVE, unix.SYS_MQ_NOTIFY,
	unix.SYS_MQ_GETSETATTR,
	// Keys.
	unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY, unix.SYS_KEYCTL,
	// System information and administration with no path: ustat takes a
	// dev_t, sysfs a filesystem type name; the privileged ones fail with
	// EPERM natively. statmount/listmount/listns name mounts and
	// namespaces by id.
	unix.SYS_UNAME, unix.SYS_SYSINFO, unix.SYS_SYSLOG, unix.SYS_USTAT, unix.SYS_SYSFS,
	unix.SYS_VHANGUP, unix.SYS_REBOOT, unix.SYS_SETHOSTNAME, unix.SYS_SETDOMAINNAME,
	unix.SYS_IOPL, unix.SYS_IOPERM, unix.SYS_GETRANDOM, unix.SYS_STATMOUNT,
	unix.SYS_LISTMOUNT, unix.SYS_LISTNS,
	// Security modules: Landlock rules name a directory by an fd opened
	// through vroot; the LSM attribute calls act on the caller.
	unix.SYS_LANDLOCK_CREATE_RULESET, unix.SYS_LANDLOCK_ADD_RULE,
	unix.SYS_LANDLOCK_RESTRICT_SELF, unix.SYS_LSM_GET_SELF_ATTR,
	unix.SYS_LSM_SET_SELF_ATTR, unix.SYS_LSM_LIST_MODULES,
}
