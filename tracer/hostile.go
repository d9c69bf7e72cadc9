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
