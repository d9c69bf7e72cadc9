package linux

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The tracer names /proc files on every dirfd-relative stop; these take
// the path as NUL-terminated bytes so that no string is built for it.

// ReadlinkBytes reads the symlink at path (NUL-terminated) into buf.
func ReadlinkBytes(path, buf []byte) (int, error) {
	if len(path) == 0 || path[len(path)-1] != 0 || len(buf) == 0 {
		return 0, os.NewSyscallError("readlinkat", unix.EINVAL)
	}
	for {
		n, _, errno := syscall.Syscall6(unix.SYS_READLINKAT, atFdcwd, uintptr(unsafe.Pointer(&path[0])),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, os.NewSyscallError("readlinkat", errno)
		}
		return int(n), nil
	}
}

// StatBytes is stat(2) of path (NUL-terminated), following symlinks.
func StatBytes(path []byte, st *unix.Stat_t) error {
	if len(path) == 0 || path[len(path)-1] != 0 {
		return os.NewSyscallError("newfstatat", unix.EINVAL)
	}
	for {
		_, _, errno := syscall.Syscall6(unix.SYS_NEWFSTATAT, atFdcwd, uintptr(unsafe.Pointer(&path[0])),
			uintptr(unsafe.Pointer(st)), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return os.NewSyscallError("newfstatat", errno)
		}
		return nil
	}
}

// atFdcwd is AT_FDCWD as a syscall argument (a negative int, sign-extended).
var atFdcwd = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()
