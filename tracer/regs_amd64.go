package tracer

import "golang.org/x/sys/unix"

// syscallInsnLen is the length of the instruction that entered the kernel
// ("syscall", 0f 05): rewinding the IP by it re-executes the syscall.
const syscallInsnLen = 2

func regsArg(r *unix.PtraceRegs, i int) *uint64 {
	switch i {
	case 0:
		return &r.Rdi
	case 1:
		return &r.Rsi
	case 2:
		return &r.Rdx
	case 3:
		return &r.R10
	case 4:
		return &r.R8
	default:
		return &r.R9
	}
}

// regsSkip makes the kernel skip the syscall of a tracee in a seccomp stop
// and return ret: on x86-64 the kernel returns rax untouched when
// orig_rax is -1.
func regsSkip(pid int, r *unix.PtraceRegs, ret int64) error {
	r.Orig_rax = ^uint64(0)
	r.Rax = uint64(ret)
	return setRegs(pid, r)
}

// regsSetSyscall replaces the syscall about to run with nr(args...).
func regsSetSyscall(pid int, r *unix.PtraceRegs, nr int, args [6]uint64) error {
	r.Orig_rax = uint64(nr)
	for i, a := range args {
		*regsArg(r, i) = a
	}
	return setRegs(pid, r)
}

// regsRestart rewinds saved registers so that the original syscall is
// executed again once the tracee resumes.
func regsRestart(pid int, saved *unix.PtraceRegs) error {
	r := *saved
	r.Rip -= syscallInsnLen
	r.Rax = r.Orig_rax
	return setRegs(pid, &r)
}

func regsRet(r *unix.PtraceRegs) int64 { return int64(r.Rax) }

func regsSetRet(pid int, r *unix.PtraceRegs, ret int64) error {
	r.Rax = uint64(ret)
	return setRegs(pid, r)
}
