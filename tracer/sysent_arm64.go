package tracer

import (
	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

// auditArch is what seccomp_data.arch says for this ABI. An AArch32
// (compat) syscall carries AUDIT_ARCH_ARM and is killed by the filter.
const auditArch = unix.AUDIT_ARCH_AARCH64

// maxSyscall is the highest number golang.org/x/sys knows for this arch.
// Every number up to it is classified below (the table, noPath, or a hole
// the generic table never assigned on arm64: 244..259, the arch-specific
// range arm64 does not use, and 295..423); anything above is refused with
// ENOSYS by the filter, since a future syscall may carry a path.
const maxSyscall = unix.SYS_RSEQ_SLICE_YIELD

// table is the arm64 syscall table (asm-generic numbering: no legacy
// non-*at calls, no rmdir/unlink/rename/link/symlink/open/stat/access/
// readlink/chmod/chown/utimes: the *at calls cover them). The decisions and
// their reasons are those of sysent_amd64.go, row for row; only the numbers
// and the set of calls differ.
var table = []Sysent{
	// --- open and create ---------------------------------------------
	{Nr: unix.SYS_OPENAT, Name: "openat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgOpen(0, 1)}},
	{Nr: unix.SYS_OPENAT2, Name: "openat2", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_MKDIRAT, Name: "mkdirat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_MKNODAT, Name: "mknodat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpCreate, FollowNever)}},
	// Only the link path is a path: the target is the link's content.
	{Nr: unix.SYS_SYMLINKAT, Name: "symlinkat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(1, 2, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_LINKAT, Name: "linkat", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{
		{Arg: 1, Dirfd: 0, Op: redirect.OpWrite, Follow: FollowIfFlag, Bit: unix.AT_SYMLINK_FOLLOW, EmptyPathBit: unix.AT_EMPTY_PATH},
		pathArgAt(2, 3, redirect.OpCreate, FollowNever)}},

	// --- remove and rename -------------------------------------------
	{Nr: unix.SYS_UNLINKAT, Name: "unlinkat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAt(0, 1, redirect.OpDelete, FollowNever)}},
	{Nr: unix.SYS_RENAMEAT, Name: "renameat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{
		pathArgAt(0, 1, redirect.OpMove, FollowNever),
		pathArgAt(2, 3, redirect.OpCreate, FollowNever)}},
	{Nr: unix.SYS_RENAMEAT2, Name: "renameat2", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{
		pathArgAt(0, 1, redirect.OpMove, FollowNever),
		pathArgAt(2, 3, redirect.OpCreate, FollowNever)}},

	// --- stat, access, readlink --------------------------------------
	{Nr: unix.SYS_NEWFSTATAT, Name: "newfstatat", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_STATX, Name: "statx", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_STATFS, Name: "statfs", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpRead, FollowAlways)}},
	{Nr: unix.SYS_FACCESSAT, Name: "faccessat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpRead, FollowAlways)}},
	{Nr: unix.SYS_FACCESSAT2, Name: "faccessat2", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	// readlinkat(fd, "") reads the symlink fd itself, with no flag.
	{Nr: unix.SYS_READLINKAT, Name: "readlinkat", Kind: KindPath, FlagsArg: noFlags, Exit: true, Paths: []PathArg{pathArgAt(0, 1, redirect.OpRead, FollowNever)}},

	// --- attributes ---------------------------------------------------
	{Nr: unix.SYS_TRUNCATE, Name: "truncate", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_FCHMODAT, Name: "fchmodat", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgAt(0, 1, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_FCHMODAT2, Name: "fchmodat2", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
	{Nr: unix.SYS_FCHOWNAT, Name: "fchownat", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
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
	{Nr: unix.SYS_SETXATTRAT, Name: "setxattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
	{Nr: unix.SYS_GETXATTRAT, Name: "getxattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_LISTXATTRAT, Name: "listxattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_REMOVEXATTRAT, Name: "removexattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},
	{Nr: unix.SYS_FILE_GETATTR, Name: "file_getattr", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpRead)}},
	{Nr: unix.SYS_FILE_SETATTR, Name: "file_setattr", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{pathArgAtFlags(0, 1, redirect.OpWrite)}},

	// --- exec and cwd -------------------------------------------------
	{Nr: unix.SYS_EXECVE, Name: "execve", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpExec, FollowAlways)}},
	{Nr: unix.SYS_EXECVEAT, Name: "execveat", Kind: KindSpecial, FlagsArg: 4},
	{Nr: unix.SYS_CHDIR, Name: "chdir", Kind: KindPath, FlagsArg: noFlags, Exit: true, Paths: []PathArg{pathArgCwd(0, redirect.OpChdir, FollowAlways)}},
	{Nr: unix.SYS_FCHDIR, Name: "fchdir", Kind: KindSpecial, FlagsArg: noFlags, Exit: true},
	{Nr: unix.SYS_GETCWD, Name: "getcwd", Kind: KindSpecial, FlagsArg: noFlags, Exit: true},

	// --- other path calls --------------------------------------------
	{Nr: unix.SYS_INOTIFY_ADD_WATCH, Name: "inotify_add_watch", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{
		{Arg: 1, Dirfd: -1, Op: redirect.OpRead, Follow: FollowUnlessFlag, Bit: unix.IN_DONT_FOLLOW}}},
	{Nr: unix.SYS_ACCT, Name: "acct", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_SWAPON, Name: "swapon", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},
	{Nr: unix.SYS_SWAPOFF, Name: "swapoff", Kind: KindPath, FlagsArg: noFlags, Paths: []PathArg{pathArgCwd(0, redirect.OpWrite, FollowAlways)}},

	// --- sockets: AF_UNIX addresses are paths -------------------------
	{Nr: unix.SYS_BIND, Name: "bind", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_CONNECT, Name: "connect", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_SENDTO, Name: "sendto", Kind: KindSpecial, FlagsArg: noFlags, TraceIfArgs: 1 << 4},
	{Nr: unix.SYS_SENDMSG, Name: "sendmsg", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_SENDMMSG, Name: "sendmmsg", Kind: KindSpecial, FlagsArg: noFlags},

	// --- processes ----------------------------------------------------
	// arm64's clone is (flags, newsp, parent_tid, tls, child_tid): the
	// flags are argument 0 as on amd64.
	{Nr: unix.SYS_CLONE, Name: "clone", Kind: KindSpecial, FlagsArg: 0},
	{Nr: unix.SYS_CLONE3, Name: "clone3", Kind: KindSpecial, FlagsArg: noFlags},
	{Nr: unix.SYS_UNSHARE, Name: "unshare", Kind: KindSpecial, FlagsArg: 0},
	{Nr: unix.SYS_SETNS, Name: "setns", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_SECCOMP, Name: "seccomp", Kind: KindSpecial, FlagsArg: 1},
	// prctl(PR_SET_DUMPABLE, 0) would hide the tracee's /proc/PID/fd and
	// cwd from vroot (and its memory from process_vm_readv) when vroot is
	// not root: the engine answers it without running it.
	{Nr: unix.SYS_PRCTL, Name: "prctl", Kind: KindSpecial, FlagsArg: noFlags},
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
	{Nr: unix.SYS_PERF_EVENT_OPEN, Name: "perf_event_open", Kind: KindSpecial, FlagsArg: noFlags},

	// --- refused: the kernel would refuse a build anyway (EPERM) ------
	{Nr: unix.SYS_CHROOT, Name: "chroot", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_MOUNT, Name: "mount", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_UMOUNT2, Name: "umount2", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_PIVOT_ROOT, Name: "pivot_root", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_OPEN_TREE, Name: "open_tree", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_OPEN_TREE_ATTR, Name: "open_tree_attr", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_MOVE_MOUNT, Name: "move_mount", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FSOPEN, Name: "fsopen", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FSCONFIG, Name: "fsconfig", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FSMOUNT, Name: "fsmount", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FSPICK, Name: "fspick", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_MOUNT_SETATTR, Name: "mount_setattr", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_QUOTACTL, Name: "quotactl", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_INIT_MODULE, Name: "init_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_FINIT_MODULE, Name: "finit_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_DELETE_MODULE, Name: "delete_module", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_KEXEC_LOAD, Name: "kexec_load", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_KEXEC_FILE_LOAD, Name: "kexec_file_load", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_BPF, Name: "bpf", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},
	{Nr: unix.SYS_OPEN_BY_HANDLE_AT, Name: "open_by_handle_at", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EPERM},

	// --- refused so that programs fall back ---------------------------
	{Nr: unix.SYS_NAME_TO_HANDLE_AT, Name: "name_to_handle_at", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.EOPNOTSUPP},
	{Nr: unix.SYS_IO_URING_SETUP, Name: "io_uring_setup", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_IO_URING_ENTER, Name: "io_uring_enter", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_IO_URING_REGISTER, Name: "io_uring_register", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_FANOTIFY_INIT, Name: "fanotify_init", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_FANOTIFY_MARK, Name: "fanotify_mark", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	{Nr: unix.SYS_LOOKUP_DCOOKIE, Name: "lookup_dcookie", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
	// Not implemented by the kernel (sys_ni_syscall since 3.1).
	{Nr: unix.SYS_NFSSERVCTL, Name: "nfsservctl", Kind: KindRefuse, FlagsArg: noFlags, Errno: unix.ENOSYS},
}

// noPath lists every other syscall of the arch: none takes a path, so the
// filter allows them untraced (see sysent_amd64.go for the notes).
var noPath = []int{
	// I/O on fds
	unix.SYS_READ, unix.SYS_WRITE, unix.SYS_CLOSE, unix.SYS_FSTAT, unix.SYS_LSEEK,
	unix.SYS_IOCTL, unix.SYS_PREAD64, unix.SYS_PWRITE64, unix.SYS_READV, unix.SYS_WRITEV,
	unix.SYS_SENDFILE, unix.SYS_FCNTL, unix.SYS_FLOCK, unix.SYS_FSYNC, unix.SYS_FDATASYNC,
	unix.SYS_FTRUNCATE, unix.SYS_FSTATFS,
	unix.SYS_READAHEAD, unix.SYS_FGETXATTR, unix.SYS_FLISTXATTR,
	unix.SYS_FADVISE64, unix.SYS_PSELECT6, unix.SYS_PPOLL,
	unix.SYS_SPLICE, unix.SYS_TEE, unix.SYS_SYNC_FILE_RANGE, unix.SYS_VMSPLICE,
	unix.SYS_FALLOCATE, unix.SYS_DUP, unix.SYS_DUP3, unix.SYS_PIPE2, unix.SYS_PREADV,
	unix.SYS_PWRITEV, unix.SYS_SYNCFS, unix.SYS_COPY_FILE_RANGE, unix.SYS_PREADV2,
	unix.SYS_PWRITEV2, unix.SYS_CLOSE_RANGE, unix.SYS_CACHESTAT, unix.SYS_SYNC,
	unix.SYS_QUOTACTL_FD, unix.SYS_GETDENTS64,
	// Asynchronous I/O on fds (not io_uring: refused).
	unix.SYS_IO_SETUP, unix.SYS_IO_DESTROY, unix.SYS_IO_GETEVENTS, unix.SYS_IO_SUBMIT,
	unix.SYS_IO_CANCEL, unix.SYS_IO_PGETEVENTS,
	// Event and notification fds.
	unix.SYS_EPOLL_CREATE1, unix.SYS_EPOLL_CTL, unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2,
	unix.SYS_SIGNALFD4, unix.SYS_TIMERFD_CREATE, unix.SYS_TIMERFD_SETTIME,
	unix.SYS_TIMERFD_GETTIME, unix.SYS_EVENTFD2, unix.SYS_INOTIFY_INIT1,
	unix.SYS_INOTIFY_RM_WATCH, unix.SYS_USERFAULTFD,
	// Memory.
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
	unix.SYS_TGKILL, unix.SYS_RT_TGSIGQUEUEINFO,
	// Processes and threads (no fork/vfork on arm64: clone does both).
	unix.SYS_EXIT, unix.SYS_EXIT_GROUP, unix.SYS_WAIT4, unix.SYS_WAITID,
	unix.SYS_SET_TID_ADDRESS, unix.SYS_SET_ROBUST_LIST, unix.SYS_GET_ROBUST_LIST,
	unix.SYS_RESTART_SYSCALL, unix.SYS_PERSONALITY, unix.SYS_RSEQ,
	unix.SYS_RSEQ_SLICE_YIELD, unix.SYS_KCMP, unix.SYS_PIDFD_OPEN,
	unix.SYS_PIDFD_SEND_SIGNAL, unix.SYS_GETTID, unix.SYS_GETPID,
	unix.SYS_GETPPID, unix.SYS_SETSID, unix.SYS_GETSID, unix.SYS_SETPGID, unix.SYS_GETPGID,
	// Credentials and limits.
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
	unix.SYS_NANOSLEEP, unix.SYS_GETITIMER, unix.SYS_SETITIMER, unix.SYS_GETTIMEOFDAY,
	unix.SYS_SETTIMEOFDAY, unix.SYS_ADJTIMEX, unix.SYS_TIMER_CREATE,
	unix.SYS_TIMER_SETTIME, unix.SYS_TIMER_GETTIME, unix.SYS_TIMER_GETOVERRUN,
	unix.SYS_TIMER_DELETE, unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_GETTIME,
	unix.SYS_CLOCK_GETRES, unix.SYS_CLOCK_NANOSLEEP, unix.SYS_CLOCK_ADJTIME,
	// Futexes.
	unix.SYS_FUTEX, unix.SYS_FUTEX_WAITV, unix.SYS_FUTEX_WAKE, unix.SYS_FUTEX_WAIT,
	unix.SYS_FUTEX_REQUEUE,
	// Sockets (the sending calls are in the table).
	unix.SYS_SOCKET, unix.SYS_SOCKETPAIR, unix.SYS_ACCEPT, unix.SYS_ACCEPT4,
	unix.SYS_RECVFROM, unix.SYS_RECVMSG, unix.SYS_RECVMMSG, unix.SYS_SHUTDOWN,
	unix.SYS_LISTEN, unix.SYS_GETSOCKNAME, unix.SYS_GETPEERNAME, unix.SYS_SETSOCKOPT,
	unix.SYS_GETSOCKOPT,
	// System V IPC and POSIX message queues (mqueue names, not paths).
	unix.SYS_SHMGET, unix.SYS_SHMAT, unix.SYS_SHMCTL, unix.SYS_SHMDT, unix.SYS_SEMGET,
	unix.SYS_SEMOP, unix.SYS_SEMCTL, unix.SYS_SEMTIMEDOP, unix.SYS_MSGGET, unix.SYS_MSGSND,
	unix.SYS_MSGRCV, unix.SYS_MSGCTL, unix.SYS_MQ_OPEN, unix.SYS_MQ_UNLINK,
	unix.SYS_MQ_TIMEDSEND, unix.SYS_MQ_TIMEDRECEIVE, unix.SYS_MQ_NOTIFY,
	unix.SYS_MQ_GETSETATTR,
	// Keys.
	unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY, unix.SYS_KEYCTL,
	// System information and administration with no path.
	unix.SYS_UNAME, unix.SYS_SYSINFO, unix.SYS_SYSLOG, unix.SYS_VHANGUP, unix.SYS_REBOOT,
	unix.SYS_SETHOSTNAME, unix.SYS_SETDOMAINNAME, unix.SYS_GETRANDOM,
	unix.SYS_STATMOUNT, unix.SYS_LISTMOUNT, unix.SYS_LISTNS,
	// Security modules.
	unix.SYS_LANDLOCK_CREATE_RULESET, unix.SYS_LANDLOCK_ADD_RULE,
	unix.SYS_LANDLOCK_RESTRICT_SELF, unix.SYS_LSM_GET_SELF_ATTR,
	unix.SYS_LSM_SET_SELF_ATTR, unix.SYS_LSM_LIST_MODULES,
}
