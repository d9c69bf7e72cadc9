package tracer

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
)

// syscallInsnLen is the length of "svc #0".
const syscallInsnLen = 4

func regsArg(r *unix.PtraceRegs, i int) *uint64 { return &r.Regs[i] }

// setSyscallNr changes the syscall number, which arm64 keeps apart from
// the general registers (NT_ARM_SYSTEM_CALL).
func setSyscallNr(pid int, nr int) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(int32(nr)))
	return linux.SetRegset(pid, unix.NT_ARM_SYSTEM_CALL, b[:])
}

func regsSkip(pid int, r *unix.PtraceRegs, ret int64) error {
	if err := setSyscallNr(pid, -1); err != nil {
		return err
	}
	r.Regs[0] = uint64(ret)
	return setRegs(pid, r)
}

func regsSetSyscall(pid int, r *unix.PtraceRegs, nr int, args [6]uint64) error {
	if err := setSyscallNr(pid, nr); err != nil {
		return err
	}
	for i, a := range args {
		r.Regs[i] = a
	}
	return setRegs(pid, r)
}

func regsRestart(pid int, saved *unix.PtraceRegs) error {
	r := *saved
	r.Pc -= syscallInsnLen
	return setRegs(pid, &r)
}

func regsRet(r *unix.PtraceRegs) int64 { return int64(r.Regs[0]) }

func regsSetRet(pid int, r *unix.PtraceRegs, ret int64) error {
	r.Regs[0] = uint64(ret)
	return setRegs(pid, r)
}
