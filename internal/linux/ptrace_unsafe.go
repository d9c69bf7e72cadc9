package linux

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SyscallInfo is struct ptrace_syscall_info for the entry and seccomp stops
// (the exit stop's union member overlays Nr and Args[0]).
type SyscallInfo struct {
	Op        uint8
	Reserved  uint8
	Flags     uint16
	Arch      uint32
	IP        uint64
	SP        uint64
	Nr        uint64
	Args      [6]uint64
	RetData   uint32
	Reserved2 uint32
}

// Ptrace syscall-info ops.
const (
	SyscallInfoNone    = 0
	SyscallInfoEntry   = 1
	SyscallInfoExit    = 2
	SyscallInfoSeccomp = 3
)

// ExitRval returns the exit stop's return value (is_error is implied by
// the value range).
func (s *SyscallInfo) ExitRval() int64 { return int64(s.Nr) }

// GetSyscallInfo fills info for the tracee's current syscall stop.
//
// Preconditions: called on the tracer's locked OS thread.
func GetSyscallInfo(pid int, info *SyscallInfo) error {
	_, e := ptrace(unix.PTRACE_GET_SYSCALL_INFO, pid, unsafe.Sizeof(*info), uintptr(unsafe.Pointer(info)))
	return wrap("ptrace(PTRACE_GET_SYSCALL_INFO)", e)
}

// SetSyscallInfo changes the syscall number and arguments of a tracee in
// a seccomp or entry stop (Linux 6.16+).
//
// Preconditions: called on the tracer's locked OS thread.
func SetSyscallInfo(pid int, info *SyscallInfo) error {
	_, e := ptrace(unix.PTRACE_SET_SYSCALL_INFO, pid, unsafe.Sizeof(*info), uintptr(unsafe.Pointer(info)))
	return wrap("ptrace(PTRACE_SET_SYSCALL_INFO)", e)
}

// GetRegs reads the general registers (NT_PRSTATUS).
//
// Preconditions: called on the tracer's locked OS thread.
func GetRegs(pid int, regs *unix.PtraceRegs) error {
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(regs)), Len: uint64(unsafe.Sizeof(*regs))}
	_, e := ptrace(unix.PTRACE_GETREGSET, pid, unix.NT_PRSTATUS, uintptr(unsafe.Pointer(&iov)))
	return wrap("ptrace(PTRACE_GETREGSET)", e)
}

// SetRegs writes the general registers (NT_PRSTATUS).
//
// Preconditions: called on the tracer's locked OS thread.
func SetRegs(pid int, regs *unix.PtraceRegs) error {
	iov := unix.Iovec{Base: (*byte)(unsafe.Pointer(regs)), Len: uint64(unsafe.Sizeof(*regs))}
	_, e := ptrace(unix.PTRACE_SETREGSET, pid, unix.NT_PRSTATUS, uintptr(unsafe.Pointer(&iov)))
	return wrap("ptrace(PTRACE_SETREGSET)", e)
}

// SetRegset writes an arbitrary register set (arm64's NT_ARM_SYSTEM_CALL).
//
// Preconditions: called on the tracer's locked OS thread.
func SetRegset(pid int, nt int, buf []byte) error {
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	_, e := ptrace(unix.PTRACE_SETREGSET, pid, uintptr(nt), uintptr(unsafe.Pointer(&iov)))
	return wrap("ptrace(PTRACE_SETREGSET)", e)
}

// GetEventMsg returns the message of the last ptrace event.
//
// Preconditions: called on the tracer's locked OS thread.
func GetEventMsg(pid int) (uint64, error) {
	var msg uint64
	_, e := ptrace(unix.PTRACE_GETEVENTMSG, pid, 0, uintptr(unsafe.Pointer(&msg)))
	return msg, wrap("ptrace(PTRACE_GETEVENTMSG)", e)
}

// PeekData reads one word of tracee memory.
//
// Preconditions: called on the tracer's locked OS thread.
func PeekData(pid int, addr uintptr) (uint64, error) {
	var word uint64
	_, e := ptrace(unix.PTRACE_PEEKDATA, pid, addr, uintptr(unsafe.Pointer(&word)))
	return word, wrap("ptrace(PTRACE_PEEKDATA)", e)
}

// ReadMem copies tracee memory at addr into buf with one
// process_vm_readv, split at page boundaries so that a fault in a later
// page still returns the bytes before it. It returns the bytes read.
func ReadMem(pid int, addr uintptr, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	const page = 4096
	var remote [3]unix.RemoteIovec
	n := 0
	off := 0
	for off < len(buf) && n < len(remote) {
		a := addr + uintptr(off)
		chunk := page - int(a%page)
		if chunk > len(buf)-off {
			chunk = len(buf) - off
		}
		if n == len(remote)-1 {
			chunk = len(buf) - off
		}
		remote[n] = unix.RemoteIovec{Base: a, Len: chunk}
		n++
		off += chunk
	}
	local := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	r, _, e := syscall.RawSyscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid),
		uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote[0])), uintptr(n), 0)
	if e != 0 {
		return 0, wrap("process_vm_readv", e)
	}
	return int(r), nil
}

// WriteMem copies buf into tracee memory at addr with one
// process_vm_writev (the target must be writable by the tracee).
func WriteMem(pid int, addr uintptr, buf []byte) error {
	if len(buf) == 0 {
		return nil
	}
	local := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	remote := unix.RemoteIovec{Base: addr, Len: len(buf)}
	r, _, e := syscall.RawSyscall6(unix.SYS_PROCESS_VM_WRITEV, uintptr(pid),
		uintptr(unsafe.Pointer(&local)), 1, uintptr(unsafe.Pointer(&remote)), 1, 0)
	if e != 0 {
		return wrap("process_vm_writev", e)
	}
	if int(r) != len(buf) {
		return wrap("process_vm_writev", syscall.EFAULT)
	}
	return nil
}
