//go:build linux

package tracer

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setSeccompFilter is seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog).
// It is apart because it hands the kernel a pointer to a struct sock_fprog.
//
// Preconditions: filter is not empty and has at most BPF_MAXINSNS
// instructions; no_new_privs is set on the calling thread, which the caller
// has locked.
func setSeccompFilter(filter []unix.SockFilter, flags uintptr) error {
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return os.NewSyscallError("seccomp", errno)
	}
	if r != 0 {
		// With TSYNC the kernel answers the id of a thread that cannot
		// take the filter (it has a filter this one does not descend from).
		return os.NewSyscallError("seccomp", fmt.Errorf("thread %d cannot be synchronised (SECCOMP_FILTER_FLAG_TSYNC)", r))
	}
	return nil
}
