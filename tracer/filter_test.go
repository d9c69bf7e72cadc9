package tracer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

// seccompData lays out struct seccomp_data the way a BPF word load sees
// it: each 32-bit word in order, a u64 argument as its low word then its
// high word (amd64 and arm64 are little endian). The kernel loads words in
// native order; golang.org/x/net/bpf's VM loads them big endian (it is a
// packet filter), so tests of the VM pass binary.BigEndian to make the VM
// read the same numbers the kernel would.
func seccompData(order binary.ByteOrder, nr, arch uint32, args [6]uint64) []byte {
	b := make([]byte, 64)
	order.PutUint32(b[0:], nr)
	order.PutUint32(b[4:], arch)
	order.PutUint64(b[8:], 0x7f0000001234) // instruction_pointer: never read
	for i, a := range args {
		order.PutUint32(b[16+8*i:], uint32(a))
		order.PutUint32(b[20+8*i:], uint32(a>>32))
	}
	return b
}

// runRaw interprets the assembled program as the kernel does (native word
// loads), counting the instructions executed. It knows only the opcodes
// seccomp accepts and the filter uses: anything else is an error.
func runRaw(prog []bpf.RawInstruction, data []byte) (ret uint32, steps int, err error) {
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		steps++
		ins := prog[pc]
		switch ins.Op {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if ins.K%4 != 0 || ins.K+4 > uint32(len(data)) {
				return 0, steps, fmt.Errorf("pc %d: load at %d", pc, ins.K)
			}
			a = binary.NativeEndian.Uint32(data[ins.K:])
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(ins.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			pc += jump(a == ins.K, ins)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			pc += jump(a >= ins.K, ins)
		case unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K:
			pc += jump(a > ins.K, ins)
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			pc += jump(a&ins.K != 0, ins)
		case unix.BPF_RET | unix.BPF_K:
			return ins.K, steps, nil
		default:
			return 0, steps, fmt.Errorf("pc %d: opcode %#x", pc, ins.Op)
		}
	}
	return 0, steps, errors.New("fell off the end")
}

func jump(cond bool, ins bpf.RawInstruction) int {
	if cond {
		return int(ins.Jt)
	}
	return int(ins.Jf)
}

// filterRunner runs one program both in x/net/bpf's VM and in runRaw, and
// insists they agree.
type filterRunner struct {
	raw []bpf.RawInstruction
	vm  *bpf.VM
}

func newFilterRunner(t *testing.T, raw []bpf.RawInstruction) *filterRunner {
	t.Helper()
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("the filter does not disassemble")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	return &filterRunner{raw: raw, vm: vm}
}

func (r *filterRunner) run(t *testing.T, nr, arch uint32, args [6]uint64) (uint32, int) {
	t.Helper()
	// The VM returns RetConstant's value as an int: on a 64-bit host a
	// value with bit 31 set (KILL_PROCESS, 0x80000000) stays positive and
	// converts back to the same uint32.
	v, err := r.vm.Run(seccompData(binary.BigEndian, nr, arch, args))
	if err != nil {
		t.Fatalf("nr %#x arch %#x: VM: %v", nr, arch, err)
	}
	k, steps, err := runRaw(r.raw, seccompData(binary.NativeEndian, nr, arch, args))
	if err != nil {
		t.Fatalf("nr %#x arch %#x: %v", nr, arch, err)
	}
	if uint32(v) != k {
		t.Fatalf("nr %#x arch %#x args %x: the VM says %#x, the raw interpreter %#x", nr, arch, args, uint32(v), k)
	}
	return k, steps
}

func retName(r uint32) string {
	switch {
	case r == retAllow:
		return "ALLOW"
	case r == retTrace:
		return "TRACE"
	case r == retKill:
		return "KILL_PROCESS"
	case r&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_ERRNO:
		return "ERRNO(" + syscall.Errno(r&unix.SECCOMP_RET_DATA).Error() + ")"
	}
	return fmt.Sprintf("%#x", r)
}

// expected is the verdict the table means for one call, computed from the
// rows directly rather than through classify.
func expected(nr, arch uint32, args [6]uint64, allow map[int]bool) uint32 {
	if arch != auditArch {
		return retKill
	}
	if auditArch == unix.AUDIT_ARCH_X86_64 && nr >= x32Bit && nr < 0x80000000 {
		return retKill
	}
	if nr > maxSyscall {
		return retENOSYS
	}
	if allow[int(nr)] {
		return retAllow
	}
	row := lookupSysent(int(nr))
	if row == nil {
		return retENOSYS
	}
	switch row.Kind {
	case KindRefuse:
		return unix.SECCOMP_RET_ERRNO | uint32(row.Errno)
	case KindPath:
		for _, p := range row.Paths {
			if args[p.Arg] != 0 || p.NullIsFd {
				return retTrace
			}
		}
		return retAllow
	case KindSpecial:
		if row.TraceIfArgs == 0 {
			return retTrace
		}
		for i := range args {
			if row.TraceIfArgs&(1<<i) != 0 && args[i] != 0 {
				return retTrace
			}
		}
		return retAllow
	}
	return retAllow
}

// argPatterns are the argument vectors tried for every number: none set,
// all set, and each argument alone in its low or its high half (a pointer
// above 4 GiB has a zero low half).
func argPatterns() [][6]uint64 {
	pats := [][6]uint64{{}, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}
	for i := 0; i < 6; i++ {
		var lo, hi [6]uint64
		lo[i], hi[i] = 0x7ffd1000, 0x7ffd<<32
		pats = append(pats, lo, hi)
	}
	return pats
}

// TestFilterVerdicts runs the real filter over every number 0..1024, the
// x32 range, high-bit numbers and foreign arches, and checks each verdict
// against the table.
func TestFilterVerdicts(t *testing.T) {
	raw, err := buildFilter(table, auditArch)
	if err != nil {
		t.Fatal(err)
	}
	r := newFilterRunner(t, raw)
	allow := noPathSet(t)

	var nrs []uint32
	for nr := uint32(0); nr <= 1024; nr++ {
		nrs = append(nrs, nr, x32Bit|nr)
	}
	nrs = append(nrs, 4095, 4096, 65535, 1<<20, x32Bit-1, 0x7fffffff, 0x80000000, 0x80000000|unix.SYS_OPENAT,
		0xc0000000, 0xc0000000|unix.SYS_READ, 0xfffffffe, 0xffffffff)
	arches := []uint32{auditArch, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_ARM, unix.AUDIT_ARCH_X86_64,
		unix.AUDIT_ARCH_AARCH64, 0, 0xffffffff, auditArch &^ 0x80000000}
	count := map[string]int{}
	for _, arch := range arches {
		for _, nr := range nrs {
			for _, args := range argPatterns() {
				got, _ := r.run(t, nr, arch, args)
				if want := expected(nr, arch, args, allow); got != want {
					name := ""
					if row := lookupSysent(int(nr)); row != nil && nr <= maxSyscall {
						name = row.Name
					}
					t.Fatalf("nr %#x %s arch %#x args %x: %s, want %s", nr, name, arch, args, retName(got), retName(want))
				}
				if arch == auditArch && args == ([6]uint64{}) {
					count[retName(got)]++
				}
			}
		}
	}
	t.Logf("%d instructions; verdicts with zero args on %#x: %v", len(raw), auditArch, count)

	// Spot checks in words, so a wrong table cannot make this test agree
	// with itself.
	ptr := [6]uint64{0x7ffd1000, 0x7ffd1000, 0x7ffd1000, 0x7ffd1000, 0x7ffd1000, 0x7ffd1000}
	for _, c := range []struct {
		nr   uint32
		args [6]uint64
		want uint32
	}{
		{unix.SYS_READ, ptr, retAllow},
		{unix.SYS_WRITE, ptr, retAllow},
		{unix.SYS_OPENAT, ptr, retTrace},
		{unix.SYS_OPENAT, [6]uint64{3, 0, unix.O_RDONLY}, retAllow}, // NULL path: EFAULT from the kernel
		{unix.SYS_IOCTL, [6]uint64{0, unix.TCGETS, 0x7ffd1000}, retAllow},
		{unix.SYS_IOCTL, [6]uint64{0, unix.TIOCSTI, 0x7ffd1000}, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		// The request is an unsigned int: high bits do not hide it.
		{unix.SYS_IOCTL, [6]uint64{0, 0xffffffff00000000 | unix.TIOCSTI, 0x7ffd1000}, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{unix.SYS_UTIMENSAT, [6]uint64{3, 0, 0x7ffd1000, 0}, retTrace}, // futimens: the fd may be a lower file's
		{unix.SYS_UTIMENSAT, [6]uint64{3, 0x7ffd1000, 0, 0}, retTrace},
		{unix.SYS_NEWFSTATAT, [6]uint64{3, 0x7ffd2000, 0x7ffd1000, unix.AT_EMPTY_PATH}, retTrace},
		{unix.SYS_SENDTO, [6]uint64{3, 0x7ffd1000, 10, 0, 0, 0}, retAllow},
		{unix.SYS_SENDTO, [6]uint64{3, 0x7ffd1000, 10, 0, 0x7ffd2000, 110}, retTrace},
		{unix.SYS_CONNECT, ptr, retTrace},
		{unix.SYS_CLONE, [6]uint64{}, retTrace},
		{unix.SYS_IO_URING_SETUP, ptr, unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)},
		{unix.SYS_CHROOT, ptr, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{unix.SYS_NAME_TO_HANDLE_AT, ptr, unix.SECCOMP_RET_ERRNO | uint32(unix.EOPNOTSUPP)},
		{maxSyscall + 1, ptr, retENOSYS},
		{400, ptr, retENOSYS},
	} {
		if got, _ := r.run(t, c.nr, auditArch, c.args); got != c.want {
			t.Errorf("nr %d args %x: %s, want %s", c.nr, c.args, retName(got), retName(c.want))
		}
	}
}

// TestFilterPathLength bounds the work of the common case: the prologue,
// a balanced tree over the runs of equal verdicts, a return.
func TestFilterPathLength(t *testing.T) {
	raw, err := buildFilter(table, auditArch)
	if err != nil {
		t.Fatal(err)
	}
	spans, err := classify(table, noPath, auditArch)
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for n := 1; n < len(spans); n *= 2 {
		depth++
	}
	// ld arch, jeq, ld nr, depth compares (each maybe a ja), ret.
	limit := 3 + 2*depth + 1
	worst := 0
	allowSteps := map[string]int{}
	for nr := uint32(0); nr <= maxSyscall+1; nr++ {
		k, steps, err := runRaw(raw, seccompData(binary.NativeEndian, nr, auditArch, [6]uint64{}))
		if err != nil {
			t.Fatal(err)
		}
		if k == retAllow || k&unix.SECCOMP_RET_ACTION_FULL == unix.SECCOMP_RET_ERRNO {
			worst = max(worst, steps)
		}
		switch nr {
		case unix.SYS_READ, unix.SYS_WRITE, unix.SYS_CLOSE, unix.SYS_MMAP, unix.SYS_FUTEX:
			allowSteps[strconv.Itoa(int(nr))] = steps
		}
	}
	t.Logf("%d instructions, %d runs, tree depth %d; worst ungated path %d instructions; read/write/close/mmap/futex: %v",
		len(raw), len(spans), depth, worst, allowSteps)
	if worst > limit {
		t.Errorf("a plain verdict takes %d instructions, more than %d", worst, limit)
	}
}

// TestFilterLongJumps builds tables whose tree needs jumps longer than a
// conditional jump's 8-bit offset, and checks every number still lands on
// its verdict.
func TestFilterLongJumps(t *testing.T) {
	for _, arch := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_AARCH64} {
		var tab []Sysent
		var allow []int
		for nr := 0; nr < 600; nr++ {
			switch nr % 4 {
			case 0:
				tab = append(tab, Sysent{Nr: nr, Name: "refuse" + strconv.Itoa(nr), Kind: KindRefuse, FlagsArg: -1, Errno: syscall.Errno(1 + nr%200)})
			case 1:
				allow = append(allow, nr)
			case 2:
				tab = append(tab, Sysent{Nr: nr, Name: "path" + strconv.Itoa(nr), Kind: KindPath, FlagsArg: -1,
					Paths: []PathArg{{Arg: int8(nr % 3), Dirfd: -1}, {Arg: 5, Dirfd: -1, Op: redirect.OpCreate}}})
			case 3:
				if nr%8 == 3 {
					tab = append(tab, Sysent{Nr: nr, Name: "special" + strconv.Itoa(nr), Kind: KindSpecial, FlagsArg: -1})
				} // else: left to the ENOSYS default
			}
		}
		raw, err := compileFilter(tab, allow, arch)
		if err != nil {
			t.Fatal(err)
		}
		long := 0
		for _, ins := range raw {
			if ins.Op == unix.BPF_JMP|unix.BPF_JA {
				long++
			}
		}
		if long == 0 {
			t.Fatalf("%d instructions and no long jump: the test does not test", len(raw))
		}
		r := newFilterRunner(t, raw)
		isAllowed := map[int]bool{}
		for _, nr := range allow {
			isAllowed[nr] = true
		}
		byNr := map[int]*Sysent{}
		for i := range tab {
			byNr[tab[i].Nr] = &tab[i]
		}
		for nr := uint32(0); nr < 700; nr++ {
			for _, args := range [][6]uint64{{}, {1}, {0, 0, 1 << 40}, {0, 0, 0, 0, 0, 1}} {
				want := retENOSYS
				if row := byNr[int(nr)]; row != nil {
					switch row.Kind {
					case KindRefuse:
						want = unix.SECCOMP_RET_ERRNO | uint32(row.Errno)
					case KindSpecial:
						want = retTrace
					case KindPath:
						want = retAllow
						for _, p := range row.Paths {
							if args[p.Arg] != 0 {
								want = retTrace
							}
						}
					}
				} else if isAllowed[int(nr)] {
					want = retAllow
				}
				if got, _ := r.run(t, nr, arch, args); got != want {
					t.Fatalf("arch %#x nr %d args %x: %s, want %s", arch, nr, args, retName(got), retName(want))
				}
			}
		}
		// x32 only means something on x86-64.
		wantX32 := retENOSYS
		if arch == unix.AUDIT_ARCH_X86_64 {
			wantX32 = retKill
		}
		if got, _ := r.run(t, x32Bit|3, arch, [6]uint64{}); got != wantX32 {
			t.Errorf("arch %#x: x32 number: %s, want %s", arch, retName(got), retName(wantX32))
		}
		t.Logf("arch %#x: %d instructions, %d long jumps", arch, len(raw), long)
	}
}

// TestFilterJumpBoundaries compiles trees of every size up to 700 runs, so
// that some left subtree is exactly 255, 256, 257... instructions long: a
// jump offset that silently wrapped at 8 bits would land on a wrong verdict.
func TestFilterJumpBoundaries(t *testing.T) {
	for n := 1; n <= 700; n++ {
		tab := make([]Sysent, n)
		for nr := range tab {
			tab[nr] = Sysent{Nr: nr, Name: strconv.Itoa(nr), Kind: KindRefuse, Errno: syscall.Errno(1 + nr%2)}
		}
		raw, err := compileFilter(tab, nil, unix.AUDIT_ARCH_AARCH64)
		if err != nil {
			t.Fatal(err)
		}
		for nr := 0; nr <= n; nr++ {
			want := retENOSYS
			if nr < n {
				want = unix.SECCOMP_RET_ERRNO | uint32(1+nr%2)
			}
			got, _, err := runRaw(raw, seccompData(binary.NativeEndian, uint32(nr), unix.AUDIT_ARCH_AARCH64, [6]uint64{}))
			if err != nil || got != want {
				t.Fatalf("%d runs, nr %d: %s (%v), want %s", n, nr, retName(got), err, retName(want))
			}
		}
	}
}

func TestFilterRejectsBadTables(t *testing.T) {
	path := []PathArg{{Arg: 0, Dirfd: -1}}
	for name, c := range map[string]struct {
		tab   []Sysent
		allow []int
	}{
		"duplicate row":        {tab: []Sysent{{Nr: 2, Name: "a", Kind: KindPath, Paths: path}, {Nr: 2, Name: "b", Kind: KindSpecial}}},
		"row and allow":        {tab: []Sysent{{Nr: 2, Name: "a", Kind: KindSpecial}}, allow: []int{1, 2}},
		"allow twice":          {allow: []int{1, 1}},
		"negative":             {tab: []Sysent{{Nr: -1, Name: "a", Kind: KindSpecial}}},
		"negative allow":       {allow: []int{-2}},
		"too large":            {tab: []Sysent{{Nr: nrLimit, Name: "a", Kind: KindSpecial}}},
		"refuse without errno": {tab: []Sysent{{Nr: 1, Name: "a", Kind: KindRefuse}}},
		"errno too large":      {tab: []Sysent{{Nr: 1, Name: "a", Kind: KindRefuse, Errno: 0x10000}}},
		"path without paths":   {tab: []Sysent{{Nr: 1, Name: "a", Kind: KindPath}}},
		"path arg 6":           {tab: []Sysent{{Nr: 1, Name: "a", Kind: KindPath, Paths: []PathArg{{Arg: 6, Dirfd: -1}}}}},
		"gate on a path row":   {tab: []Sysent{{Nr: 1, Name: "a", Kind: KindPath, Paths: path, TraceIfArgs: 1}}},
		"gate beyond arg 5":    {tab: []Sysent{{Nr: 1, Name: "a", Kind: KindSpecial, TraceIfArgs: 1 << 6}}},
		"unknown kind":         {tab: []Sysent{{Nr: 1, Name: "a", Kind: 9}}},
	} {
		if _, err := compileFilter(c.tab, c.allow, auditArch); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A program beyond BPF_MAXINSNS is refused rather than truncated.
	var big []Sysent
	for nr := 0; nr < 3000; nr++ {
		big = append(big, Sysent{Nr: nr, Name: strconv.Itoa(nr), Kind: KindRefuse, Errno: syscall.Errno(1 + nr%2)})
	}
	if _, err := compileFilter(big, nil, auditArch); err == nil || !strings.Contains(err.Error(), "instructions") {
		t.Errorf("a %d-run table: %v", len(big), err)
	}
	// An empty table refuses everything but kills foreign ABIs.
	raw, err := compileFilter(nil, nil, auditArch)
	if err != nil {
		t.Fatal(err)
	}
	r := newFilterRunner(t, raw)
	if got, _ := r.run(t, 0, auditArch, [6]uint64{}); got != retENOSYS {
		t.Errorf("empty table: %s", retName(got))
	}
	if got, _ := r.run(t, 0, unix.AUDIT_ARCH_I386, [6]uint64{}); got != retKill {
		t.Errorf("empty table, i386: %s", retName(got))
	}
}

// The kernel test runs the real filter in a child process of the test
// binary, which never has a tracer: RET_TRACE then fails the call with
// ENOSYS, so every verdict is visible as an errno.
const filterChildEnv = "VROOT_TEST_FILTER_CHILD"

func TestFilterInKernel(t *testing.T) {
	if mode := os.Getenv(filterChildEnv); mode != "" {
		filterChild(mode) // does not return
	}
	if testing.Short() {
		t.Skip("installs a seccomp filter in a child process")
	}
	child := func(mode string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFilterInKernel$", "-test.count=1")
		cmd.Dir = t.TempDir() // a core dump, should one happen, lands there
		cmd.Env = append(os.Environ(), filterChildEnv+"="+mode)
		out, err := cmd.Output()
		return string(out), err
	}
	out, err := child("verdicts")
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if strings.HasPrefix(out, "SKIP ") {
		t.Skip(strings.TrimPrefix(out, "SKIP "))
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			got[k] = v
		}
	}
	errnoName := func(e syscall.Errno) string { return strconv.Itoa(int(e)) }
	for call, want := range map[string]syscall.Errno{
		"getpid":               0,
		"io_uring_setup":       unix.ENOSYS,     // refused (natively EFAULT)
		"chroot":               unix.EPERM,      // refused (natively success as root)
		"ptrace_traceme":       unix.EPERM,      // refused (natively success)
		"name_to_handle_at":    unix.EOPNOTSUPP, // refused (natively EFAULT)
		"newfstatat_path":      unix.ENOSYS,     // traced, no tracer
		"newfstatat_null":      unix.EFAULT,     // NULL path: allowed, the kernel says EFAULT
		"utimensat_null":       unix.ENOSYS,     // futimens: traced too (a read-only fd of a lower file)
		"sendto_connected":     unix.EBADF,      // no destination: allowed
		"sendto_addr":          unix.ENOSYS,     // destination: traced
		"clone_badflags":       unix.ENOSYS,     // traced
		"hole":                 unix.ENOSYS,
		"above_max":            unix.ENOSYS,
		"negative_one_syscall": unix.ENOSYS,
	} {
		if got[call] != errnoName(want) {
			t.Errorf("%s: errno %s, want %d (%v)", call, got[call], want, want)
		}
	}
	if runtime.GOARCH == "amd64" {
		// An x32 syscall kills the whole process with SIGSYS.
		out, err := child("x32")
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("x32 child: %v\n%s", err, out)
		}
		ws := ee.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
			t.Errorf("x32 child ended with %v, want killed by SIGSYS\n%s", ws, out)
		}
	}
}

// filterChild installs the real filter and reports the errno of a set of
// raw syscalls on stdout, one "name errno" per line. Raw syscalls, one
// locked thread, GC off: the Go runtime must not need a new thread
// (clone is traced, so it would fail) before the child exits.
func filterChild(mode string) {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	runtime.LockOSThread()
	prog, err := buildFilter(table, auditArch)
	if err != nil {
		fmt.Printf("FAIL %v\n", err)
		os.Exit(1)
	}
	if err := installFilter(prog); err != nil {
		fmt.Printf("SKIP cannot install a seccomp filter here: %v\n", err)
		os.Exit(0)
	}
	if mode == "x32" {
		// SIGSYS dumps core by default: not from a test.
		unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
		unix.RawSyscall(x32Bit|unix.SYS_GETPID, 0, 0, 0)
		fmt.Println("x32 syscall returned")
		os.Exit(0)
	}
	root := []byte("/\x00")
	var buf [512]byte
	sa := [16]byte{byte(unix.AF_UNIX)}
	p := func(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }
	const fdcwd = ^uintptr(99) // AT_FDCWD (-100)
	bad := ^uintptr(0)         // fd -1
	calls := []struct {
		name string
		nr   uintptr
		a    [6]uintptr
	}{
		{"getpid", unix.SYS_GETPID, [6]uintptr{}},
		{"io_uring_setup", unix.SYS_IO_URING_SETUP, [6]uintptr{1}},
		{"chroot", unix.SYS_CHROOT, [6]uintptr{p(root)}},
		{"ptrace_traceme", unix.SYS_PTRACE, [6]uintptr{unix.PTRACE_TRACEME}},
		{"name_to_handle_at", unix.SYS_NAME_TO_HANDLE_AT, [6]uintptr{fdcwd, p(root)}},
		{"newfstatat_path", unix.SYS_NEWFSTATAT, [6]uintptr{fdcwd, p(root), p(buf[:])}},
		{"newfstatat_null", unix.SYS_NEWFSTATAT, [6]uintptr{fdcwd, 0, p(buf[:])}},
		{"utimensat_null", unix.SYS_UTIMENSAT, [6]uintptr{bad, 0, 0, 0}},
		{"sendto_connected", unix.SYS_SENDTO, [6]uintptr{bad, p(buf[:]), 1, 0, 0, 0}},
		{"sendto_addr", unix.SYS_SENDTO, [6]uintptr{bad, p(buf[:]), 1, 0, p(sa[:]), uintptr(len(sa))}},
		{"clone_badflags", unix.SYS_CLONE, [6]uintptr{^uintptr(0)}},
		{"hole", 400, [6]uintptr{}},
		{"above_max", maxSyscall + 1, [6]uintptr{}},
		{"negative_one_syscall", ^uintptr(0), [6]uintptr{}},
	}
	var out []byte
	for _, c := range calls {
		_, _, e := unix.RawSyscall6(c.nr, c.a[0], c.a[1], c.a[2], c.a[3], c.a[4], c.a[5])
		out = fmt.Appendf(out, "%s %d\n", c.name, int(e))
	}
	runtime.KeepAlive(root)
	runtime.KeepAlive(&buf)
	runtime.KeepAlive(&sa)
	unix.Write(1, out)
	os.Exit(0)
}
