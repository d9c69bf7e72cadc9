package tracer

import (
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Offsets in struct seccomp_data { int nr; __u32 arch; __u64
// instruction_pointer; __u64 args[6]; }.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
	seccompDataArgs = 16
)

// x32Bit is __X32_SYSCALL_BIT: on x86-64 an x32 syscall reports
// AUDIT_ARCH_X86_64 with this bit set in the number.
const x32Bit = 0x40000000

// nrLimit bounds the numbers a table may use: the dense index and the
// classification are sized by the highest number, and no arch comes near
// it (the highest today is 471).
const nrLimit = 4096

// Filter verdicts.
const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retTrace = unix.SECCOMP_RET_TRACE
	// retKill ends the whole thread group. A foreign-ABI syscall (i386
	// int 0x80, x32, AArch32) from a build of this arch is hostile or
	// broken: no vroot table describes its numbers or argument layout, so
	// it can neither be traced nor given a meaningful errno, and a
	// program that tries one must not carry on half-working.
	retKill   = unix.SECCOMP_RET_KILL_PROCESS
	retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
)

// verdict is what the filter answers for one syscall number.
type verdict struct {
	ret uint32
	// gate, for a RET_TRACE verdict, is a mask of arguments: the call is
	// traced only when one of them is non-zero, else allowed.
	gate uint8
	// refuseArg1, for an ALLOW verdict, refuses the call (EPERM) when the
	// low 32 bits of argument 1 equal it: ioctl's TIOCSTI (hostile.go).
	refuseArg1 uint32
}

// span is a run of numbers [lo, next span's lo) with the same verdict.
type span struct {
	lo uint32
	v  verdict
}

// buildFilter compiles the seccomp program for an arch from its table and
// its noPath list:
//
//	arch != the table's arch          -> KILL_PROCESS (foreign ABI)
//	x86-64, 0x40000000 <= nr < 2^31   -> KILL_PROCESS (x32 ABI)
//	KindPath, KindSpecial             -> TRACE (see gates below)
//	KindRefuse                        -> ERRNO(row's errno)
//	KindSucceed                       -> ERRNO(0): returns 0, not run
//	KindAllow, noPath                 -> ALLOW
//	any other number                  -> ERRNO(ENOSYS): fail closed, a
//	                                     syscall vroot does not know may
//	                                     carry a path
//
// A KindPath call whose path pointers are all NULL, and a KindSpecial call
// whose TraceIfArgs arguments are all zero, is allowed untraced: there is
// nothing to translate (see Sysent.TraceIfArgs).
//
// The numbers are dispatched by a balanced tree of unsigned compares over
// the runs of equal verdicts (about 130 runs on amd64), so any syscall
// costs about log2(runs) compares instead of a chain of hundreds: read or
// write is ALLOWed after 11 instructions, the worst plain verdict takes 19.
//
// arch is the AUDIT_ARCH_* the table is for; the noPath list used is the
// one of the arch this package is built for.
func buildFilter(table []Sysent, arch uint32) ([]bpf.RawInstruction, error) {
	return compileFilter(table, noPath, arch)
}

// compileFilter is buildFilter with the allow list as a parameter.
func compileFilter(table []Sysent, allow []int, arch uint32) ([]bpf.RawInstruction, error) {
	spans, err := classify(table, allow, arch)
	if err != nil {
		return nil, err
	}
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: seccompDataArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: arch, SkipTrue: 1},
		bpf.RetConstant{Val: retKill},
		bpf.LoadAbsolute{Off: seccompDataNr, Size: 4},
	}
	prog = append(prog, dispatch(spans)...)
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp filter: %d instructions, the kernel takes at most %d", len(prog), unix.BPF_MAXINSNS)
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("seccomp filter: %w", err)
	}
	return raw, nil
}

// classify gives every 32-bit syscall number a verdict, as sorted runs.
func classify(table []Sysent, allow []int, arch uint32) ([]span, error) {
	hi := -1
	for i := range table {
		hi = max(hi, table[i].Nr)
	}
	for _, nr := range allow {
		hi = max(hi, nr)
	}
	if hi >= nrLimit {
		return nil, fmt.Errorf("seccomp filter: syscall number %d is out of range", hi)
	}
	byNr := make([]verdict, hi+1)
	set := make([]string, hi+1) // who classified each number, for duplicates
	for i := range table {
		row := &table[i]
		if row.Nr < 0 {
			return nil, fmt.Errorf("seccomp filter: %s: negative syscall number", row.Name)
		}
		v, err := rowVerdict(row)
		if err != nil {
			return nil, err
		}
		if set[row.Nr] != "" {
			return nil, fmt.Errorf("seccomp filter: syscall %d is both %s and %s", row.Nr, set[row.Nr], row.Name)
		}
		set[row.Nr] = row.Name
		byNr[row.Nr] = v
	}
	for _, nr := range allow {
		if nr < 0 {
			return nil, fmt.Errorf("seccomp filter: negative syscall number %d in the allow list", nr)
		}
		if set[nr] != "" {
			return nil, fmt.Errorf("seccomp filter: syscall %d is both %s and in the allow list", nr, set[nr])
		}
		set[nr] = "the allow list"
		byNr[nr] = verdict{ret: retAllow}
		if nr == unix.SYS_IOCTL {
			byNr[nr].refuseArg1 = tiocsti
		}
	}
	var spans []span
	add := func(lo uint32, v verdict) {
		if len(spans) > 0 && spans[len(spans)-1].v == v {
			return
		}
		spans = append(spans, span{lo, v})
	}
	for nr := range byNr {
		v := byNr[nr]
		if set[nr] == "" {
			v = verdict{ret: retENOSYS}
		}
		add(uint32(nr), v)
	}
	add(uint32(hi+1), verdict{ret: retENOSYS})
	if arch == unix.AUDIT_ARCH_X86_64 {
		// The kernel dispatches these numbers, minus the x32 bit, through
		// the x32 table. A number with bit 31 set (a negative int) it
		// dispatches nowhere: ENOSYS, as the kernel itself would answer.
		add(x32Bit, verdict{ret: retKill})
		add(0x80000000, verdict{ret: retENOSYS})
	}
	return spans, nil
}

// rowVerdict is the filter's answer for one table row.
func rowVerdict(row *Sysent) (verdict, error) {
	switch row.Kind {
	case KindAllow:
		return verdict{ret: retAllow}, nil
	case KindPath:
		if len(row.Paths) == 0 {
			return verdict{}, fmt.Errorf("seccomp filter: %s: KindPath without a path argument", row.Name)
		}
		if row.TraceIfArgs != 0 {
			return verdict{}, fmt.Errorf("seccomp filter: %s: TraceIfArgs on a KindPath row (its gate is its path arguments)", row.Name)
		}
		var gate uint8
		for _, p := range row.Paths {
			if p.Arg < 0 || p.Arg > 5 {
				return verdict{}, fmt.Errorf("seccomp filter: %s: path argument %d out of range", row.Name, p.Arg)
			}
			gate |= 1 << p.Arg
		}
		for _, p := range row.Paths {
			if p.NullIsFd {
				gate = 0 // a NULL path names the fd: traced as well
			}
		}
		return verdict{ret: retTrace, gate: gate}, nil
	case KindSpecial:
		if row.TraceIfArgs&^0x3f != 0 {
			return verdict{}, fmt.Errorf("seccomp filter: %s: TraceIfArgs %#x names arguments beyond 5", row.Name, row.TraceIfArgs)
		}
		return verdict{ret: retTrace, gate: row.TraceIfArgs}, nil
	case KindSucceed:
		return verdict{ret: unix.SECCOMP_RET_ERRNO}, nil
	case KindRefuse:
		if row.Errno <= 0 || row.Errno > unix.SECCOMP_RET_DATA {
			return verdict{}, fmt.Errorf("seccomp filter: %s: KindRefuse needs an errno in 1..%d, not %d", row.Name, unix.SECCOMP_RET_DATA, row.Errno)
		}
		return verdict{ret: unix.SECCOMP_RET_ERRNO | uint32(row.Errno)}, nil
	}
	return verdict{}, fmt.Errorf("seccomp filter: %s: unknown kind %d", row.Name, row.Kind)
}

// dispatch emits the decision tree for spans, with the accumulator holding
// the syscall number. Every path through it ends in a return.
func dispatch(spans []span) []bpf.Instruction {
	if len(spans) == 1 {
		return leaf(spans[0].v)
	}
	mid := len(spans) / 2
	left := dispatch(spans[:mid]) // nr < spans[mid].lo
	right := dispatch(spans[mid:])
	var out []bpf.Instruction
	if len(left) <= 255 {
		out = append(out, bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: spans[mid].lo, SkipTrue: uint8(len(left))})
	} else {
		// A conditional jump reaches 255 instructions ahead; a long left
		// subtree is stepped over by an unconditional jump (32-bit offset).
		out = append(out,
			bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: spans[mid].lo, SkipFalse: 1},
			bpf.Jump{Skip: uint32(len(left))})
	}
	out = append(out, left...)
	return append(out, right...)
}

// leaf emits the return of one verdict. A gated trace first tests both
// 32-bit halves of each gating argument (the test for zero does not depend
// on the arch's byte order).
func leaf(v verdict) []bpf.Instruction {
	if v.refuseArg1 != 0 {
		// ioctl's request is an unsigned int: the kernel reads the low
		// half, at offset 0 on the little-endian arches vroot supports.
		return []bpf.Instruction{
			bpf.LoadAbsolute{Off: seccompDataArgs + 8*1, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: v.refuseArg1, SkipTrue: 1},
			bpf.RetConstant{Val: v.ret},
			bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		}
	}
	if v.gate == 0 {
		return []bpf.Instruction{bpf.RetConstant{Val: v.ret}}
	}
	var args []uint32
	for i := uint32(0); i < 6; i++ {
		if v.gate&(1<<i) != 0 {
			args = append(args, i)
		}
	}
	// Layout: per half: load, "if != 0 goto trace"; then ret ALLOW,
	// trace: ret TRACE. The last instruction is at index 4*len(args)+1.
	n := 4*len(args) + 2
	out := make([]bpf.Instruction, 0, n)
	for _, a := range args {
		for half := uint32(0); half < 2; half++ {
			out = append(out, bpf.LoadAbsolute{Off: seccompDataArgs + 8*a + 4*half, Size: 4})
			skip := n - 1 - (len(out) + 1) // from the next instruction to trace
			out = append(out, bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0, SkipTrue: uint8(skip)})
		}
	}
	return append(out, bpf.RetConstant{Val: retAllow}, bpf.RetConstant{Val: v.ret})
}
