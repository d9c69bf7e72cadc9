package tracer

import (
	"os"
	"runtime"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// installFilter sets no_new_privs and installs prog as a seccomp filter on
// every thread of the process (SECCOMP_FILTER_FLAG_TSYNC: the Go runtime
// has several threads, and whichever one later calls execve must carry the
// filter). It is meant for vroot's init, just before it execs the command.
//
// Errors are *os.SyscallError named after the request that failed:
// "prctl" or "seccomp".
func installFilter(prog []bpf.RawInstruction) error {
	if len(prog) == 0 || len(prog) > unix.BPF_MAXINSNS {
		return os.NewSyscallError("seccomp", unix.EINVAL)
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	// no_new_privs is a per-thread flag and seccomp(2) requires it on the
	// calling thread (without CAP_SYS_ADMIN): both calls must come from
	// the same OS thread. TSYNC then gives it to the other threads too.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl", err)
	}
	return setSeccompFilter(filter, unix.SECCOMP_FILTER_FLAG_TSYNC)
}
