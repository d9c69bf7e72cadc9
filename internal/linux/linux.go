// Package linux is vroot's thin layer of raw Linux system calls that
// golang.org/x/sys does not wrap the way the tracer needs: every wrapper
// retries on EINTR where the call can be interrupted and returns an
// *os.SyscallError named after the request.
package linux

import (
	"os"
	"syscall"
)

func wrap(name string, errno syscall.Errno) error {
	if errno == 0 {
		return nil
	}
	return os.NewSyscallError(name, errno)
}
