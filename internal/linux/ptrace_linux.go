package linux

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Ptrace requests by name, for error messages.
var requestNames = map[int]string{
	unix.PTRACE_CONT:             "ptrace(PTRACE_CONT)",
	unix.PTRACE_SYSCALL:          "ptrace(PTRACE_SYSCALL)",
	unix.PTRACE_SEIZE:            "ptrace(PTRACE_SEIZE)",
	unix.PTRACE_LISTEN:           "ptrace(PTRACE_LISTEN)",
	unix.PTRACE_INTERRUPT:        "ptrace(PTRACE_INTERRUPT)",
	unix.PTRACE_GETEVENTMSG:      "ptrace(PTRACE_GETEVENTMSG)",
	unix.PTRACE_GETREGSET:        "ptrace(PTRACE_GETREGSET)",
	unix.PTRACE_SETREGSET:        "ptrace(PTRACE_SETREGSET)",
	unix.PTRACE_GET_SYSCALL_INFO: "ptrace(PTRACE_GET_SYSCALL_INFO)",
	unix.PTRACE_SET_SYSCALL_INFO: "ptrace(PTRACE_SET_SYSCALL_INFO)",
	unix.PTRACE_DETACH:           "ptrace(PTRACE_DETACH)",
	unix.PTRACE_PEEKDATA:         "ptrace(PTRACE_PEEKDATA)",
	unix.PTRACE_POKEDATA:         "ptrace(PTRACE_POKEDATA)",
}

func ptrace(req, pid int, addr, data uintptr) (uintptr, syscall.Errno) {
	r, _, e := syscall.RawSyscall6(syscall.SYS_PTRACE, uintptr(req), uintptr(pid), addr, data, 0, 0)
	return r, e
}

func ptraceErr(req, pid int, addr, data uintptr) error {
	if _, e := ptrace(req, pid, addr, data); e != 0 {
		name := requestNames[req]
		if name == "" {
			name = "ptrace"
		}
		return wrap(name, e)
	}
	return nil
}

// Seize attaches to pid with options set before it runs again.
//
// Preconditions: called on the tracer's locked OS thread.
func Seize(pid int, options int) error {
	return ptraceErr(unix.PTRACE_SEIZE, pid, 0, uintptr(options))
}

// Cont resumes a stopped tracee, delivering sig if non-zero.
//
// Preconditions: called on the tracer's locked OS thread.
func Cont(pid int, sig int) error { return ptraceErr(unix.PTRACE_CONT, pid, 0, uintptr(sig)) }

// Syscall resumes a tracee until its next syscall stop.
//
// Preconditions: called on the tracer's locked OS thread.
func Syscall(pid int, sig int) error { return ptraceErr(unix.PTRACE_SYSCALL, pid, 0, uintptr(sig)) }

// Listen resumes a tracee in group-stop without ending the stop.
//
// Preconditions: called on the tracer's locked OS thread.
func Listen(pid int) error { return ptraceErr(unix.PTRACE_LISTEN, pid, 0, 0) }

// Interrupt stops a seized tracee.
//
// Preconditions: called on the tracer's locked OS thread.
func Interrupt(pid int) error { return ptraceErr(unix.PTRACE_INTERRUPT, pid, 0, 0) }

// Wait4 is wait4(2), retried on EINTR.
func Wait4(pid int, status *unix.WaitStatus, options int) (int, error) {
	for {
		wpid, err := unix.Wait4(pid, status, options, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return wpid, wrap("wait4", err.(syscall.Errno))
		}
		return wpid, nil
	}
}
