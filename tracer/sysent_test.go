package tracer

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

// holes are the numbers up to maxSyscall the kernel never assigned on an
// arch: the filter refuses them with ENOSYS like the kernel would.
var holes = map[string][][2]int{
	"amd64": {{337, 423}},
	// 244..259 is asm-generic's arch-specific range, unused by arm64; the
	// 32-bit time64 calls (403..423) do not exist on 64-bit arches.
	"arm64": {{244, 259}, {295, 423}},
}

func isHole(nr int) bool {
	for _, h := range holes[runtime.GOARCH] {
		if nr >= h[0] && nr <= h[1] {
			return true
		}
	}
	return false
}

func noPathSet(t *testing.T) map[int]bool {
	t.Helper()
	set := make(map[int]bool, len(noPath))
	for _, nr := range noPath {
		if set[nr] {
			t.Errorf("noPath lists %d twice", nr)
		}
		set[nr] = true
	}
	return set
}

// TestSysentClassifiesEveryNumber walks 0..maxSyscall: each number is in
// exactly one of the table (traced or refused), noPath (allowed) or the
// arch's holes (refused with ENOSYS by default).
func TestSysentClassifiesEveryNumber(t *testing.T) {
	if _, ok := holes[runtime.GOARCH]; !ok {
		t.Fatalf("no hole list for %s", runtime.GOARCH)
	}
	allow := noPathSet(t)
	inTable := map[int]string{}
	for _, row := range table {
		if prev, ok := inTable[row.Nr]; ok {
			t.Errorf("%d is both %s and %s", row.Nr, prev, row.Name)
		}
		inTable[row.Nr] = row.Name
	}
	for nr := 0; nr <= maxSyscall; nr++ {
		n := 0
		var where []string
		if name, ok := inTable[nr]; ok {
			n++
			where = append(where, "table ("+name+")")
		}
		if allow[nr] {
			n++
			where = append(where, "noPath")
		}
		if isHole(nr) {
			n++
			where = append(where, "a hole")
		}
		switch {
		case n == 0:
			t.Errorf("syscall %d is not classified", nr)
		case n > 1:
			t.Errorf("syscall %d is in %s", nr, strings.Join(where, " and "))
		}
	}
	for nr := range allow {
		if nr < 0 || nr > maxSyscall {
			t.Errorf("noPath number %d is outside 0..%d", nr, maxSyscall)
		}
	}
	if auditArch != unix.AUDIT_ARCH_X86_64 && auditArch != unix.AUDIT_ARCH_AARCH64 {
		t.Errorf("auditArch = %#x", auditArch)
	}
}

// xsysNumbers reads the syscall numbers golang.org/x/sys knows for this
// arch from its generated zsysnum file (the authority the table's
// constants come from), through the go command.
func xsysNumbers(t *testing.T) map[int]string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to locate golang.org/x/sys")
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.Dir}}", "golang.org/x/sys/unix").Output()
	if err != nil {
		t.Skipf("go list golang.org/x/sys/unix: %v", err)
	}
	f, err := os.Open(filepath.Join(strings.TrimSpace(string(out)), "zsysnum_linux_"+runtime.GOARCH+".go"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^\s*SYS_(\w+)\s*=\s*(\d+)\s*$`)
	nums := map[int]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		// Not a syscall: the base of asm-generic's arch-specific range.
		if m[1] == "ARCH_SPECIFIC_SYSCALL" {
			continue
		}
		nr, _ := strconv.Atoi(m[2])
		nums[nr] = strings.ToLower(m[1])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(nums) < 300 {
		t.Fatalf("only %d syscalls parsed", len(nums))
	}
	return nums
}

// TestSysentMatchesXSys proves the classification complete against
// golang.org/x/sys: every number it knows is in the table or noPath (not
// left to the ENOSYS default), no hole is a known syscall, maxSyscall is
// its highest number, and each row's name is the syscall's.
func TestSysentMatchesXSys(t *testing.T) {
	known := xsysNumbers(t)
	allow := noPathSet(t)
	hi := 0
	for nr, name := range known {
		hi = max(hi, nr)
		row := lookupSysent(nr)
		switch {
		case row != nil && row.Name != name:
			t.Errorf("syscall %d is %s, the table says %s", nr, name, row.Name)
		case row == nil && !allow[nr]:
			t.Errorf("syscall %d (%s) is neither in the table nor in noPath", nr, name)
		}
		if isHole(nr) {
			t.Errorf("syscall %d (%s) is listed as a hole", nr, name)
		}
	}
	if hi != maxSyscall {
		t.Errorf("golang.org/x/sys knows syscalls up to %d, maxSyscall = %d", hi, maxSyscall)
	}
	for nr := range allow {
		if _, ok := known[nr]; !ok {
			t.Errorf("noPath number %d is not a syscall", nr)
		}
	}
}

// exitRows are the calls whose result the engine must see: getcwd and the
// readlinks return host paths, chdir and fchdir change the tracked cwd.
var exitRows = map[string]bool{"readlink": true, "readlinkat": true, "chdir": true, "fchdir": true, "getcwd": true}

// TestSysentRows checks every row is well formed for the engine and the
// filter.
func TestSysentRows(t *testing.T) {
	names := map[string]bool{}
	for i := range table {
		row := &table[i]
		bad := func(format string, args ...any) {
			t.Helper()
			t.Errorf("%s (%d): "+format, append([]any{row.Name, row.Nr}, args...)...)
		}
		if row.Name == "" {
			bad("no name")
		}
		if names[row.Name] {
			bad("name used twice")
		}
		names[row.Name] = true
		if row.Nr < 0 || row.Nr > maxSyscall {
			bad("number outside 0..%d", maxSyscall)
		}
		if row.FlagsArg < -1 || row.FlagsArg > 5 {
			bad("FlagsArg %d", row.FlagsArg)
		}
		if row.Exit != exitRows[row.Name] {
			bad("Exit = %v", row.Exit)
		}
		if row.TraceIfArgs&^0x3f != 0 {
			bad("TraceIfArgs %#x names arguments beyond 5", row.TraceIfArgs)
		}
		switch row.Kind {
		case KindPath:
			checkPathRow(t, row, bad)
		case KindSpecial:
			if len(row.Paths) != 0 || row.Errno != 0 {
				bad("KindSpecial with paths or an errno")
			}
		case KindRefuse:
			if len(row.Paths) != 0 || row.Exit || row.TraceIfArgs != 0 {
				bad("KindRefuse with paths, Exit or TraceIfArgs")
			}
			switch row.Errno {
			case unix.EPERM, unix.ENOSYS, unix.EOPNOTSUPP:
			default:
				bad("refused with %v: expected EPERM (privileged), ENOSYS or EOPNOTSUPP (fall back)", row.Errno)
			}
		default:
			// Allowed calls belong in noPath, so the table lists only
			// what the filter does not simply let through.
			bad("kind %d in the table", row.Kind)
		}
	}
}

func checkPathRow(t *testing.T, row *Sysent, bad func(string, ...any)) {
	t.Helper()
	if len(row.Paths) == 0 || len(row.Paths) > 2 {
		bad("%d path arguments", len(row.Paths))
	}
	if row.Errno != 0 || row.TraceIfArgs != 0 {
		bad("KindPath with an errno or TraceIfArgs")
	}
	used := map[int8]string{}
	use := func(arg int8, what string) {
		if prev, ok := used[arg]; ok && prev != what {
			bad("argument %d is both %s and %s", arg, prev, what)
		}
		used[arg] = what
	}
	if row.FlagsArg >= 0 {
		use(row.FlagsArg, "flags")
	}
	needFlags := false
	for i, p := range row.Paths {
		if p.Arg < 0 || p.Arg > 5 {
			bad("path argument %d", p.Arg)
		}
		if i > 0 && p.Arg <= row.Paths[i-1].Arg {
			bad("paths not in argument order")
		}
		use(p.Arg, "path "+strconv.Itoa(i))
		if p.Dirfd < -1 || p.Dirfd > 5 {
			bad("dirfd argument %d", p.Dirfd)
		}
		if p.Dirfd >= 0 {
			use(p.Dirfd, "dirfd "+strconv.Itoa(i))
		}
		if p.Op > redirect.OpMove {
			bad("op %d", p.Op)
		}
		switch p.Follow {
		case FollowAlways, FollowNever:
			if p.Bit != 0 {
				bad("a flag bit without a flag rule")
			}
		case FollowUnlessFlag, FollowIfFlag:
			if p.Bit == 0 {
				bad("follow rule %d without its bit", p.Follow)
			}
			needFlags = true
		case FollowOpen:
			needFlags = true
		default:
			bad("follow rule %d", p.Follow)
		}
		// open/openat: the flags decide the op and the follow rule
		// together; nothing else has open flags.
		if p.OpenFlags != (p.Follow == FollowOpen) {
			bad("OpenFlags %v with follow rule %d", p.OpenFlags, p.Follow)
		}
		if p.EmptyPathBit != 0 {
			needFlags = true
			if p.Dirfd < 0 {
				bad("AT_EMPTY_PATH without a dirfd")
			}
		}
		// The engine maps a readlink result back from the buffer and
		// size that follow the path argument.
		if row.Exit && p.Op == redirect.OpRead && p.Follow == FollowNever && p.Arg+2 > 5 {
			bad("readlink-like row without buffer and size arguments")
		}
	}
	if needFlags && row.FlagsArg < 0 {
		bad("a rule reads the flags but FlagsArg is -1")
	}
}

// TestSysentSpotChecks restates the rows whose shape matters most, from
// the man pages rather than from the table.
func TestSysentSpotChecks(t *testing.T) {
	const (
		R, X, C, W, N, D, M = redirect.OpRead, redirect.OpExec, redirect.OpChdir, redirect.OpWrite, redirect.OpCreate, redirect.OpDelete, redirect.OpMove
	)
	atFlags := func(dirfd, arg int8, op redirect.Op) PathArg {
		return PathArg{Arg: arg, Dirfd: dirfd, Op: op, Follow: FollowUnlessFlag, Bit: 0x100, EmptyPathBit: 0x1000}
	}
	p := func(dirfd, arg int8, op redirect.Op, f Follow) PathArg {
		return PathArg{Arg: arg, Dirfd: dirfd, Op: op, Follow: f}
	}
	want := []Sysent{
		{Name: "open", Kind: KindPath, FlagsArg: 1, Paths: []PathArg{{Arg: 0, Dirfd: -1, Op: R, Follow: FollowOpen, OpenFlags: true}}},
		{Name: "openat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{{Arg: 1, Dirfd: 0, Op: R, Follow: FollowOpen, OpenFlags: true}}},
		{Name: "creat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, N, FollowAlways)}},
		{Name: "openat2", Kind: KindSpecial, FlagsArg: -1},
		{Name: "stat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, R, FollowAlways)}},
		{Name: "lstat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, R, FollowNever)}},
		{Name: "newfstatat", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{atFlags(0, 1, R)}},
		{Name: "statx", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{atFlags(0, 1, R)}},
		{Name: "access", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, R, FollowAlways)}},
		{Name: "faccessat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(0, 1, R, FollowAlways)}},
		{Name: "faccessat2", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{atFlags(0, 1, R)}},
		{Name: "readlink", Kind: KindPath, FlagsArg: -1, Exit: true, Paths: []PathArg{p(-1, 0, R, FollowNever)}},
		{Name: "readlinkat", Kind: KindPath, FlagsArg: -1, Exit: true, Paths: []PathArg{p(0, 1, R, FollowNever)}},
		{Name: "execve", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, X, FollowAlways)}},
		{Name: "execveat", Kind: KindSpecial, FlagsArg: 4},
		{Name: "chdir", Kind: KindPath, FlagsArg: -1, Exit: true, Paths: []PathArg{p(-1, 0, C, FollowAlways)}},
		{Name: "fchdir", Kind: KindSpecial, FlagsArg: -1, Exit: true},
		{Name: "getcwd", Kind: KindSpecial, FlagsArg: -1, Exit: true},
		{Name: "mkdir", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, N, FollowNever)}},
		{Name: "mkdirat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(0, 1, N, FollowNever)}},
		{Name: "mknodat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(0, 1, N, FollowNever)}},
		{Name: "rmdir", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, D, FollowNever)}},
		{Name: "unlinkat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{p(0, 1, D, FollowNever)}},
		{Name: "rename", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, M, FollowNever), p(-1, 1, N, FollowNever)}},
		{Name: "renameat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(0, 1, M, FollowNever), p(2, 3, N, FollowNever)}},
		{Name: "renameat2", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{p(0, 1, M, FollowNever), p(2, 3, N, FollowNever)}},
		{Name: "link", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, W, FollowNever), p(-1, 1, N, FollowNever)}},
		{Name: "linkat", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{
			{Arg: 1, Dirfd: 0, Op: W, Follow: FollowIfFlag, Bit: 0x400, EmptyPathBit: 0x1000}, p(2, 3, N, FollowNever)}},
		{Name: "symlink", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 1, N, FollowNever)}},
		{Name: "symlinkat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(1, 2, N, FollowNever)}},
		{Name: "chmod", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, W, FollowAlways)}},
		{Name: "fchmodat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(0, 1, W, FollowAlways)}},
		{Name: "fchmodat2", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{atFlags(0, 1, W)}},
		{Name: "lchown", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, W, FollowNever)}},
		{Name: "fchownat", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{atFlags(0, 1, W)}},
		{Name: "truncate", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, W, FollowAlways)}},
		{Name: "utimensat", Kind: KindPath, FlagsArg: 3, Paths: []PathArg{nullIsFd(atFlags(0, 1, W))}},
		{Name: "futimesat", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{nullIsFd(p(0, 1, W, FollowAlways))}},
		{Name: "lgetxattr", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, R, FollowNever)}},
		{Name: "setxattr", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, W, FollowAlways)}},
		{Name: "getxattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{atFlags(0, 1, R)}},
		{Name: "removexattrat", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{atFlags(0, 1, W)}},
		{Name: "file_getattr", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{atFlags(0, 1, R)}},
		{Name: "file_setattr", Kind: KindPath, FlagsArg: 4, Paths: []PathArg{atFlags(0, 1, W)}},
		{Name: "statfs", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, R, FollowAlways)}},
		{Name: "inotify_add_watch", Kind: KindPath, FlagsArg: 2, Paths: []PathArg{
			{Arg: 1, Dirfd: -1, Op: R, Follow: FollowUnlessFlag, Bit: 0x2000000}}},
		{Name: "swapon", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, W, FollowAlways)}},
		{Name: "acct", Kind: KindPath, FlagsArg: -1, Paths: []PathArg{p(-1, 0, W, FollowAlways)}},
		{Name: "bind", Kind: KindSpecial, FlagsArg: -1},
		{Name: "connect", Kind: KindSpecial, FlagsArg: -1},
		{Name: "sendto", Kind: KindSpecial, FlagsArg: -1, TraceIfArgs: 1 << 4},
		{Name: "sendmsg", Kind: KindSpecial, FlagsArg: -1},
		{Name: "sendmmsg", Kind: KindSpecial, FlagsArg: -1},
		{Name: "clone", Kind: KindSpecial, FlagsArg: 0},
		{Name: "clone3", Kind: KindSpecial, FlagsArg: -1},
		{Name: "unshare", Kind: KindSpecial, FlagsArg: 0},
		{Name: "seccomp", Kind: KindSpecial, FlagsArg: 1},
		{Name: "perf_event_open", Kind: KindSpecial, FlagsArg: -1},
		{Name: "setns", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "ptrace", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "chroot", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "mount", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "umount2", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "pivot_root", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "fsconfig", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "open_tree_attr", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "quotactl", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "finit_module", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "kexec_file_load", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "bpf", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "open_by_handle_at", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EPERM},
		{Name: "name_to_handle_at", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.EOPNOTSUPP},
		{Name: "io_uring_setup", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.ENOSYS},
		{Name: "io_uring_enter", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.ENOSYS},
		{Name: "io_uring_register", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.ENOSYS},
		{Name: "fanotify_mark", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.ENOSYS},
		{Name: "uselib", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.ENOSYS},
		{Name: "lookup_dcookie", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.ENOSYS},
		{Name: "nfsservctl", Kind: KindRefuse, FlagsArg: -1, Errno: syscall.ENOSYS},
	}
	byName := map[string]*Sysent{}
	for i := range table {
		byName[table[i].Name] = &table[i]
	}
	// The legacy calls exist only where the arch has them.
	legacy := map[string]bool{"open": true, "creat": true, "stat": true, "lstat": true, "access": true,
		"readlink": true, "mkdir": true, "rmdir": true, "rename": true, "link": true, "symlink": true,
		"chmod": true, "lchown": true, "futimesat": true, "uselib": true}
	for _, w := range want {
		got := byName[w.Name]
		if got == nil {
			if runtime.GOARCH == "amd64" || !legacy[w.Name] {
				t.Errorf("%s: no row", w.Name)
			}
			continue
		}
		g := *got
		g.Nr = 0
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", w.Name, g, w)
		}
	}
	// Calls that must never be traced or refused: they carry no path.
	allow := noPathSet(t)
	for name, nr := range map[string]int{
		"read": unix.SYS_READ, "write": unix.SYS_WRITE, "fstat": unix.SYS_FSTAT,
		"getdents64": unix.SYS_GETDENTS64, "mmap": unix.SYS_MMAP, "futex": unix.SYS_FUTEX,
		"memfd_create": unix.SYS_MEMFD_CREATE, "memfd_secret": unix.SYS_MEMFD_SECRET,
		"mq_open": unix.SYS_MQ_OPEN, "mq_unlink": unix.SYS_MQ_UNLINK,
		"process_vm_readv": unix.SYS_PROCESS_VM_READV, "landlock_add_rule": unix.SYS_LANDLOCK_ADD_RULE,
		"quotactl_fd": unix.SYS_QUOTACTL_FD, "syslog": unix.SYS_SYSLOG, "statmount": unix.SYS_STATMOUNT,
		"ftruncate": unix.SYS_FTRUNCATE, "fgetxattr": unix.SYS_FGETXATTR, "recvmsg": unix.SYS_RECVMSG,
	} {
		if !allow[nr] {
			t.Errorf("%s (%d) is not in noPath", name, nr)
		}
	}
}

func TestSysentLookup(t *testing.T) {
	for i := range table {
		if got := lookupSysent(table[i].Nr); got != &table[i] {
			t.Errorf("lookupSysent(%d) = %v, want the %s row", table[i].Nr, got, table[i].Name)
		}
	}
	for _, nr := range noPath {
		if got := lookupSysent(nr); got != nil {
			t.Errorf("lookupSysent(%d) = %s, want nil for a noPath number", nr, got.Name)
		}
	}
	for _, nr := range []int{-1, -100, maxSyscall + 1, len(sysentByNr), 1 << 30, x32Bit | unix.SYS_OPENAT} {
		if got := lookupSysent(nr); got != nil {
			t.Errorf("lookupSysent(%d) = %s, want nil", nr, got.Name)
		}
	}
	if testing.Short() {
		return
	}
	if n := testing.AllocsPerRun(100, func() { _ = lookupSysent(unix.SYS_OPENAT) }); n != 0 {
		t.Errorf("lookupSysent allocates %v times", n)
	}
}

func TestSysentIndexRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("indexTable accepted a number listed twice")
		}
	}()
	indexTable([]Sysent{{Nr: 3, Name: "a"}, {Nr: 3, Name: "b"}})
}
