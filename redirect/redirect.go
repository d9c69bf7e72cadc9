// Package redirect owns the translation of guest paths into host paths: it
// canonicalises a guest path one component at a time, in guest space, as the
// kernel would on the merged tree the filemap describes, and answers with the
// host path the kernel must be given, or the errno the guest must see. It
// also maps host paths the kernel hands back (getcwd, /proc magic links) to
// guest paths. It knows nothing of ptrace: the tracer asks, it answers, and
// it is safe to call from several goroutines.
package redirect

import (
	"syscall"

	"github.com/vroot-dev/vroot/filemap"
)

// Op is the kind of access a syscall makes to one path argument.
type Op uint8

const (
	// OpRead: open O_RDONLY, stat, access, readlink, getxattr, statfs, ...
	OpRead Op = iota
	// OpExec: execve, execveat, uselib.
	OpExec
	// OpChdir: chdir, chroot.
	OpChdir
	// OpWrite modifies an existing object: open for writing, truncate,
	// chmod, chown, utimes, setxattr, removexattr.
	OpWrite
	// OpCreate makes a new name: mkdir, mknod, symlink (link path), link
	// (new path), rename (new path), bind of an AF_UNIX socket, and open
	// with O_CREAT.
	OpCreate
	// OpDelete removes a name: unlink, rmdir, rename (old path).
	OpDelete
)

// Request is one path argument of one syscall.
type Request struct {
	// Path is the guest path, absolute (the tracer has joined a relative
	// path to the guest path of the dirfd or cwd), not cleaned: a trailing
	// "/" and ".." components keep their meaning.
	Path string
	// Op is what the syscall does with the path.
	Op Op
	// Follow says whether a symlink in the last component is followed.
	Follow bool
	// Pid and Tid identify the process (thread group) and thread, so that
	// /proc/self and /proc/thread-self mean the tracee.
	Pid, Tid int
	// ArgLen is the length of the path as the process passed it, when that
	// is not Path (a relative path the tracer joined); 0 means len(Path).
	// The kernel refuses PATH_MAX bytes or more with ENAMETOOLONG before
	// any lookup, and only on what the process passed: a joined Path may
	// be longer.
	ArgLen int
}

// Answer is what the tracer applies.
type Answer struct {
	// Host is the path to hand to the kernel. Empty when Errno is set.
	Host string
	// Errno, when non-zero, fails the syscall without running it.
	Errno syscall.Errno
	// Guest is the canonical guest path the request resolved to (for
	// reports and for chdir).
	Guest string
	// Rule is the filemap rule that decided; nil if none matched.
	Rule *filemap.Rule
}

// Options configure a Resolver.
type Options struct {
	// Stage is the staging directory. Empty means there is no stage yet:
	// redirect rules are served from their lower layers only. When set,
	// STAGE/root mirrors the guest tree and is the topmost layer of every
	// redirect rule for reads (see layersFor; whiteouts and the write side
	// of the overlay come with the stage work).
	Stage string
	// AskFunc decides an access under an ask rule: 0 allows it (the path is
	// then served like a grant, host path = guest path), anything else is
	// the errno the guest gets. It is called for the last component of every
	// request that ends under an ask rule, and for each directory walked
	// through under one when that directory is not cached yet, so it must be
	// cheap, cache its own answers, and be safe for concurrent use. Nil means
	// every ask is refused with EACCES.
	//
	// TODO(ask): the handler kinds of the design (tty prompt, JSON-lines
	// socket, built-in policy) plug in here.
	AskFunc func(rule *filemap.Rule, guest string, req Request) syscall.Errno
}
