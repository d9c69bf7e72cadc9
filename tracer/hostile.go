package tracer

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

// Defences against a build that tries to reach around the trace through
// another process (docs/security.md). The syscalls that do it directly
// (ptrace, process_vm_writev, pidfd_getfd) are refused by the filter; what
// is left are the files under /proc that act on a process.

// tiocsti is the ioctl that pushes a byte into a terminal's input queue:
// a build that shares the user's terminal could type commands into the
// shell that started vroot, to run after vroot exits. The filter refuses
// it (EPERM, what the kernel says to a process whose controlling terminal
// it is not). Linux 6.2+ can disable it for everyone (dev.tty.legacy_tiocsti
// = 0); vroot does not rely on that.
const tiocsti = unix.TIOCSTI

// procMemTarget returns the pid or tid named by a host path of the form
// /proc/N/mem or /proc/N/task/M/mem (M when present), or 0.
func procMemTarget(host string) int {
	rest, ok := strings.CutPrefix(host, "/proc/")
	if !ok {
		return 0
	}
	rest, ok = strings.CutSuffix(rest, "/mem")
	if !ok {
		return 0
	}
	if i := strings.Index(rest, "/task/"); i >= 0 {
		rest = rest[i+len("/task/"):]
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// refuseHostile returns the errno for a path answer vroot must not let the
// kernel act on, or 0.
//
// Opening /proc/N/mem for writing writes N's memory with FOLL_FORCE, through
// read-only mappings: a process outside the build (nothing but Yama stops
// it, and this kernel may have none), another tracee whose path buffers
// vroot is about to trust, or, under --strict, the caller's own scratch
// area. A task may keep writing its own memory in the default mode (JITs
// and debuggers of themselves do); every other target gets the EACCES the
// kernel gives when ptrace access is denied.
func (e *engine) refuseHostile(t *task, pr pathRequest, host string) syscall.Errno {
	if pr.op != redirect.OpWrite && pr.op != redirect.OpCreate {
		return 0
	}
	n := procMemTarget(host)
	if n == 0 {
		return 0
	}
	if e.cfg.Strict {
		return unix.EACCES
	}
	if target := e.tasks[n]; target != nil && target.mm == t.mm {
		return 0
	}
	return unix.EACCES
}

// sysFdMeta handles fchmod, fchown, fsetxattr and fremovexattr. A build
// can hold a read-only fd on a lower host file (reads are not copied up);
// a metadata change through it would change the host file. When the fd's
// file is reachable by its path and a write there resolves elsewhere (a
// staged copy), the call becomes the path-based one on that copy, as
// chmod(path) would have; otherwise (granted or staged files, pipes,
// sockets, memfds, deleted files) it runs as is.
func (e *engine) sysFdMeta(s *stop) {
	if !e.fdStaged(s, int32(s.args[0])) {
		return
	}
	path := scratchRelative | uint64(slotPath0)
	a := s.args
	s.setNr = true
	switch s.ent.Name {
	case "fchmod":
		s.nr, s.args = unix.SYS_FCHMODAT, [6]uint64{atFdcwd, path, a[1]}
	case "fchown":
		s.nr, s.args = unix.SYS_FCHOWNAT, [6]uint64{atFdcwd, path, a[1], a[2], unix.AT_SYMLINK_NOFOLLOW}
	case "fsetxattr":
		s.nr, s.args = unix.SYS_LSETXATTR, [6]uint64{path, a[1], a[2], a[3], a[4]}
	case "fremovexattr":
		s.nr, s.args = unix.SYS_LREMOVEXATTR, [6]uint64{path, a[1]}
	}
}

// atFdcwd is AT_FDCWD as a register value (sign-extended).
var atFdcwd = func() uint64 { v := int64(unix.AT_FDCWD); return uint64(v) }()

// fdStaged resolves a write through fd to the file its path names: when a
// write there goes elsewhere (a staged copy), that host path is put in the
// scratch slot (slotPath0) and fdStaged reports true. It reports false when
// the call must run as is, or when the stop has been failed.
func (e *engine) fdStaged(s *stop, fd int32) bool {
	if fd < 0 {
		return false // EBADF from the kernel
	}
	link := procFd(s.t.tid, fd)
	host, err := readlinkString(link)
	if err != nil || !strings.HasPrefix(host, "/") {
		return false
	}
	// The fd must be the file its path names now (not a deleted or
	// replaced one, a memfd, or a file in another mount namespace).
	var fst, pst unix.Stat_t
	if unix.Stat(link, &fst) != nil || unix.Lstat(host, &pst) != nil || fst.Dev != pst.Dev || fst.Ino != pst.Ino {
		return false
	}
	guest := host
	if g, ok := e.res.GuestPath(host); ok {
		guest = g
	}
	pr := pathRequest{arg: -1, path: guest, dirfd: unix.AT_FDCWD, op: redirect.OpWrite}
	ans, ok := e.translate(s, pr, slotPath0)
	if !ok {
		return false // failed with the rule's errno, or done
	}
	if ans.Host == host {
		s.writes, s.changed = nil, false
		return false
	}
	if !s.changed {
		data := e.bytes(len(ans.Host) + 1)
		copy(data, ans.Host)
		s.writes = append(s.writes, scratchWrite{off: slotPath0, data: data})
		s.changed = true
	}
	s.fdHost = ans.Host
	return true
}

// emptyPathWrite handles a write-class *at call with AT_EMPTY_PATH and an
// empty path (fchownat, fchmodat2, setxattrat...): it acts on the dirfd's
// file, which may be a lower host file; the path argument then names its
// staged copy instead.
func (e *engine) emptyPathWrite(s *stop, pa PathArg) {
	if e.fdStaged(s, int32(s.args[pa.Dirfd])) {
		s.args[pa.Arg] = scratchRelative | uint64(slotPath0)
	}
}
