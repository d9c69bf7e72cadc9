package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/tracer"
)

// hostDir makes a host directory the unprivileged user may write but that
// no rule grants (not under /tmp, /var/tmp, the build tree or the caches):
// a write that escapes the trace lands there.
func hostDir(t *testing.T) string {
	t.Helper()
	base := "/var/lib"
	if os.Geteuid() != 0 {
		var err error
		if base, err = os.UserHomeDir(); err != nil {
			t.Skip("no home directory for a user-writable host dir")
		}
	}
	d, err := os.MkdirTemp(base, "vroot-it-host-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	os.Chmod(d, 0o777)
	write(t, filepath.Join(d, "victim"), "orig\n", 0o666)
	write(t, filepath.Join(d, "keep"), "keep\n", 0o666)
	return d
}

// stageFiles lists the names vroot staged under host dir h.
func stageFiles(t *testing.T, st, h string) []string {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(st, "root", h))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// hostileCase runs one class of escape attempts of hostile_escape under
// vroot and checks every line it printed, that the host directory is
// unchanged, and which files landed in the stage instead.
//
// It runs once in the default mode and once under --strict (where the
// kernel has Landlock): --strict must not change what an honest call gets.
func hostileCase(t *testing.T, mode string, extra []string, want string, staged []string) {
	t.Helper()
	modes := [][]string{nil}
	if tracer.LandlockABI() >= 3 {
		modes = append(modes, []string{"--strict"})
	}
	for _, flags := range modes {
		hostileRun(t, flags, mode, extra, want, staged)
	}
}

func hostileRun(t *testing.T, flags []string, mode string, extra []string, want string, staged []string) {
	t.Helper()
	h := hostDir(t)
	work := worldDir(t, "vroot-it-hostile-")
	st := filepath.Join(work, "st")
	before := snapshot(t, h)
	args := append(append(append([]string{"-q"}, flags...), "--stage", st, "--", bin("hostile_escape"), mode, h), extra...)
	r := vroot(t, work, args...)
	if r.code != 0 {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	wantLines := strings.Split(strings.TrimSpace(want), "\n")
	for i := range max(len(got), len(wantLines)) {
		g, w := "", ""
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantLines) {
			w = strings.TrimSpace(wantLines[i])
		}
		if g != w {
			t.Errorf("%v line %d: got %q, want %q", flags, i+1, g, w)
		}
	}
	sameSnapshot(t, before, snapshot(t, h))
	if got := stageFiles(t, st, h); strings.Join(got, " ") != strings.Join(staged, " ") {
		t.Errorf("%v: staged under %s: %q, want %q", flags, h, got, staged)
	}
}

// TestHostileSyscallPaths: legacy numbers, numbers with high bits, openat2
// with every size the kernel accepts, all translated; bogus sizes get the
// kernel's errno. (io_uring, int 0x80 and x32: TestFailClosed.)
func TestHostileSyscallPaths(t *testing.T) {
	hostileCase(t, "syscalls", nil, `
		SYS_open: ok
		SYS_creat: ok
		SYS_mkdir: ok
		SYS_rename: ok
		SYS_unlink: ok
		SYS_chmod: ENOENT
		highbits-openat: ok
		negative-nr: ENOSYS
		openat2 size 24: ok
		openat2 size 32: ok
		openat2 size 64: ok
		openat2 size 256: ok
		openat2 size 4096: ok
		openat2 size 16: EINVAL
		openat2 size 4097: E2BIG
		openat2 size 64 nonzero tail: E2BIG
		openat2 in-root: ok`,
		[]string{"highbits", "legacy-creat", "legacy-mkdir", "legacy-open", "openat2-24", "openat2-256",
			"openat2-32", "openat2-4096", "openat2-64", "openat2-inroot", "renamed"})
}

// TestHostileExec: execveat with a dirfd, fexecve of an O_PATH fd and exec
// of a memfd copy of sh: the new program is still traced.
func TestHostileExec(t *testing.T) {
	hostileCase(t, "exec", nil, `
		execveat: exit 0
		fexecve: exit 0
		memfd exec: exit 0`,
		[]string{"execveat", "fexecve", "memfd"})
}

// TestHostileTracing: ptrace, process_vm_writev, pidfd_getfd and
// /proc/PID/mem against vroot and against a process of the same user
// outside the build are refused; the outside process's fd reopened through
// /proc/PID/fd resolves in guest space; CLONE_UNTRACED children stay
// traced. (Killing vroot: TestKillingVrootKillsBuild.)
func TestHostileTracing(t *testing.T) {
	h := hostDir(t)
	// The outside process: same uid as vroot, holding h/victim open for
	// writing as fd 3.
	argv := asUser(bin("hostile_escape"), "victim", h)
	outside := exec.Command(argv[0], argv[1:]...)
	out, err := outside.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := outside.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { outside.Process.Kill(); outside.Wait() })
	if l, _ := bufio.NewReader(out).ReadString('\n'); l != "ready\n" {
		t.Fatalf("outside helper: %q", l)
	}
	pid := outside.Process.Pid // setpriv execs the helper: the same pid
	before := snapshot(t, h)
	work := worldDir(t, "vroot-it-hostile-")
	st := filepath.Join(work, "st")
	r := vroot(t, work, "-q", "--stage", st, "--", bin("hostile_escape"), "tracing", h, strconv.Itoa(pid))
	want := `PTRACE_TRACEME: EPERM
PTRACE_ATTACH vroot: EPERM
PTRACE_ATTACH outside: EPERM
PTRACE_SEIZE outside: EPERM
process_vm_writev vroot: EPERM
process_vm_writev outside: EPERM
pidfd_getfd vroot: EPERM
pidfd_getfd outside: EPERM
/proc/vroot/mem: EACCES
/proc/self/mem: ok
/proc/outside/mem: EACCES
/proc/outside/fd/3: ok
CLONE_UNTRACED clone: exit 0
CLONE_UNTRACED clone3: exit 0
`
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d stdout\n%s\nwant\n%s\nstderr %s", r.code, r.stdout, want, r.stderr)
	}
	sameSnapshot(t, before, snapshot(t, h))
	if got := readFile(t, filepath.Join(h, "victim")); got != "orig\n" {
		t.Errorf("host victim: %q", got)
	}
	if got := readFile(t, filepath.Join(st, "root", h, "victim")); got != "pwned\n" {
		t.Errorf("staged victim: %q", got)
	}
	if got := stageFiles(t, st, h); strings.Join(got, " ") != "untraced-clone untraced-clone3 victim" {
		t.Errorf("staged: %q", got)
	}
}

// TestHostileSeccomp: a nested filter with a user-notification listener is
// refused (it would outrank RET_TRACE); filters without one (prctl or
// seccomp, even one asking for RET_TRACE itself) cannot stop translation.
func TestHostileSeccomp(t *testing.T) {
	hostileCase(t, "seccomp", nil, `
		NEW_LISTENER: EPERM
		NEW_LISTENER|TSYNC: EPERM
		prctl filter: ok
		getppid: ok
		seccomp filter: ok
		openat after filters: ok
		openat USER_NOTIF no listener: ENOSYS`,
		[]string{"after-filter"})
}

// TestHostileMagicLinks: /proc/self/root, /proc/PID/cwd, /proc/self/fd/N/,
// /dev/fd/N/, dirfds (also received by SCM_RIGHTS), fchdir, reopening a
// read-only fd for writing, O_TMPFILE + linkat: all resolve in guest space
// and write into the stage.
func TestHostileMagicLinks(t *testing.T) {
	hostileCase(t, "magic", nil, `
		/proc/self/root: ok
		/proc/self/fd/N/: ok
		/dev/fd/N/: ok
		/proc/PID/fd/N/: ok
		openat(dirfd): ok
		mkdirat(dirfd): ok
		unlinkat(dirfd): ok
		reopen O_RDONLY fd O_RDWR: ok
		reopen /dev/fd O_WRONLY: ok
		O_TMPFILE+linkat: ok
		SCM_RIGHTS dirfd: ok
		/proc/PID/cwd: ok
		fchdir: ok
		creat after fchdir: ok
		/proc/self/cwd after fchdir: ok`,
		[]string{"cwd-link", "devfd-link", "dirfd", "dirfd-dir", "fchdir", "fchdir-cwd", "fd-link",
			"pidfd-link", "root-link", "scm", "tmpfile", "victim"})
}

// TestHostileSymlinks: symlinks the build makes in its granted tree,
// pointing at a host dir and file, are resolved in guest space: the writes
// land in the stage. (Swaps racing the tracer: TestStrictRace.)
func TestHostileSymlinks(t *testing.T) {
	hostileCase(t, "symlinks", nil, `
		symlink to H: ok
		create through it: ok
		symlink to H/victim: ok
		truncate through it: ok
		relative symlink: ok
		chmod through it: ok
		rename over the link's target: ok`,
		[]string{"keep", "via-link", "victim"})
}

// TestHostileNamespaces: the mount API, new user or mount namespaces,
// chroot, pivot_root, setns and file handles are refused; the build goes on.
func TestHostileNamespaces(t *testing.T) {
	hostileCase(t, "namespaces", nil, `
		mount tmpfs on H: EPERM
		mount bind: EPERM
		umount2: EPERM
		open_tree: EPERM
		open_tree plain: EPERM
		move_mount: EPERM
		fsopen: EPERM
		fspick: EPERM
		unshare NEWUSER: EPERM
		unshare NEWNS: EPERM
		unshare NEWUSER|NEWNS: EPERM
		clone NEWUSER: EPERM
		clone3 NEWUSER|NEWNS: EPERM
		chroot: EPERM
		pivot_root: EPERM
		setns: EPERM
		name_to_handle_at: EOPNOTSUPP
		open_by_handle_at: EPERM
		create after: ok`,
		[]string{"ns-after"})
}

// needLandlock skips a --strict test on a kernel without Landlock ABI 3,
// except in CI, whose kernel must have it.
func needLandlock(t *testing.T) {
	t.Helper()
	if abi := tracer.LandlockABI(); abi < 3 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("--strict needs Landlock ABI 3; this kernel has %d", abi)
		}
		t.Skipf("--strict needs Landlock ABI 3; this kernel has %d", abi)
	}
}

// TestStrict: a build under --strict still writes its tree, /tmp, the
// stage (through redirected paths) and /dev/null.
func TestStrict(t *testing.T) {
	needLandlock(t)
	h := hostDir(t)
	work := worldDir(t, "vroot-it-strict-")
	st := filepath.Join(work, "st")
	tmp := worldDir(t, "vroot-it-strict-tmp-")
	before := snapshot(t, h)
	script := strings.Join([]string{
		"set -e",
		"echo tree > out",
		"echo tmp > " + tmp + "/f",
		"echo staged > " + h + "/new",
		"echo more >> " + h + "/victim",
		"mkdir " + h + "/d && mv " + h + "/new " + h + "/d/new",
		"rm " + h + "/keep",
		"echo null > /dev/null",
		"cat " + h + "/d/new " + h + "/victim",
	}, "\n")
	r := vroot(t, work, "-q", "--strict", "--stage", st, "--", "sh", "-c", script)
	if r.code != 0 || r.stdout != "staged\norig\nmore\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if readFile(t, filepath.Join(work, "out")) != "tree\n" || readFile(t, filepath.Join(tmp, "f")) != "tmp\n" {
		t.Error("granted writes missing")
	}
	sameSnapshot(t, before, snapshot(t, h))
	if got := stageFiles(t, st, h); strings.Join(got, " ") != "d victim" {
		t.Errorf("staged: %q", got)
	}
}

// TestStrictRace: a second thread rewrites the path string after vroot read
// it, or swaps a directory of the build tree for a symlink to a host dir,
// for a few seconds: under --strict no create reaches the host. (Without
// --strict both races can win: docs/security.md.)
func TestStrictRace(t *testing.T) {
	needLandlock(t)
	for _, mode := range []string{"buffer", "swap"} {
		t.Run(mode, func(t *testing.T) {
			h := hostDir(t)
			work := worldDir(t, "vroot-it-race-")
			st := filepath.Join(work, "st")
			before := snapshot(t, h)
			r := vroot(t, work, "-q", "--strict", "--stage", st, "--", bin("hostile_race"), mode, h, "2")
			var created, refused int
			if _, err := fmt.Sscanf(r.stdout, "created %d refused %d", &created, &refused); err != nil || r.code != 0 {
				t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
			t.Logf("%s: created %d, refused %d", mode, created, refused)
			if created == 0 {
				t.Error("no create succeeded: the race ran nothing")
			}
			sameSnapshot(t, before, snapshot(t, h))
		})
	}
}

// TestStrictScratch: under --strict the scratch area vroot writes host
// paths into is read-only and sealed: the build cannot make it writable,
// replace or unmap it, nor write it through /proc/self/mem.
func TestStrictScratch(t *testing.T) {
	needLandlock(t)
	if !hasMseal() {
		if os.Getenv("CI") == "true" {
			t.Fatal("the kernel has no mseal (Linux 6.10+): the scratch area cannot be sealed")
		}
		t.Skip("no mseal (Linux 6.10+)")
	}
	h := hostDir(t)
	work := worldDir(t, "vroot-it-scratch-")
	r := vroot(t, work, "-q", "--strict", "--stage", filepath.Join(work, "st"), "--", bin("hostile_escape"), "scratch", h)
	want := "scratch perms: r--p\nmprotect RW: EPERM\nmmap MAP_FIXED: EPERM\nmunmap: EPERM\n/proc/self/mem: EACCES\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d stdout %q, want %q (stderr %q)", r.code, r.stdout, want, r.stderr)
	}
}

// TestHostileFdMetadata: fchmod, fchown and the AT_EMPTY_PATH forms of
// fchownat, fchmodat2 and utimensat through a read-only fd of a host file
// the user owns act on its staged copy, not on the host file; on a granted
// file they act on the file itself. (futimens, utimensat with a NULL path,
// is not traced and still reaches the host file: docs/security.md.)
func TestHostileFdMetadata(t *testing.T) {
	h := hostDir(t)
	mine := filepath.Join(h, "mine")
	write(t, mine, "mine\n", 0o644)
	write(t, mine+"2", "mine2\n", 0o644)
	write(t, mine+"3", "mine3\n", 0o644)
	if os.Geteuid() == 0 {
		for _, f := range []string{mine, mine + "2", mine + "3"} {
			os.Chown(f, testUID, testUID)
		}
	}
	work := worldDir(t, "vroot-it-fdmeta-")
	st := filepath.Join(work, "st")
	before := snapshot(t, h)
	r := vroot(t, work, "-q", "--stage", st, "--", bin("hostile_escape"), "fdmeta", h)
	want := "fchmod: ok\nfchown: ok\nfstat: ok\nstat: ok\nguest mode 600\n" +
		"fchownat AT_EMPTY_PATH: ok\nfchmodat2 AT_EMPTY_PATH: ok\nutimensat AT_EMPTY_PATH: ok\nguest mode 640 mtime 1000000000\n" +
		"futimens: ok\nguest mtime 1100000000\n" +
		"granted fchmod: ok\ngranted mode 600\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d stdout %q, want %q (stderr %q)", r.code, r.stdout, want, r.stderr)
	}
	sameSnapshot(t, before, snapshot(t, h))
	if fi, err := os.Stat(filepath.Join(st, "root", mine)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("staged copy: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(st, "root", mine+"3")); err != nil || fi.ModTime().Unix() != 1100000000 {
		t.Errorf("staged copy of mine3 (futimens): %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(work, "own")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("granted file: %v %v", fi, err)
	}
}

// hasMseal probes mseal(2) on a mapping of the test's own.
func hasMseal() bool {
	b, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return false
	}
	return unix.Mseal(b, 0) == nil
}

// TestHostileTerminal: TIOCSTI, which would type a command into the
// terminal of the shell that started vroot, is refused even on a terminal
// that is the caller's controlling one (natively allowed where
// dev.tty.legacy_tiocsti is 1).
func TestHostileTerminal(t *testing.T) {
	native := runIn(t, "/", bin("hostile_escape"), "tiocsti", "/")
	t.Logf("natively: %q", native.stdout)
	hostileCase(t, "tiocsti", nil, "TIOCSTI: EPERM", nil)
}
