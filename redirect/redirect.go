// Package redirect owns the translation of guest paths into host paths: it
// canonicalises a guest path one component at a time, in guest space, as the
// kernel would on the merged tree the filemap describes, and answers with the
// host path the kernel must be given, or the errno the guest must see. It
// also maps host paths the kernel hands back (getcwd, /proc magic links) to
// guest paths, and keeps the overlay of redirect rules: writes land in a
// Stage, reads see the stage over the lower layers (see Resolver). It knows
// nothing of ptrace: the tracer asks, it answers, and it is safe to call from
// several goroutines.
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
	// chmod, chown, utimes, setxattr, removexattr, and link's old path
	// (the object that gets a second name).
	OpWrite
	// OpCreate makes a new name: mkdir, mknod, symlink (link path), link
	// (new path), rename (new path, with Request.Replace), bind of an
	// AF_UNIX socket, and open with O_CREAT.
	OpCreate
	// OpDelete removes a name: unlink, rmdir (with Request.RemoveDir).
	OpDelete
	// OpMove is rename's old path: the name goes away, but its object
	// (contents included) lives on under the new name.
	OpMove
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

	// Open: the path is being opened (open, openat, openat2, creat). An
	// open for reading of a merged directory is answered with a
	// synthesized listing (see Resolver); an open for writing of a
	// directory, a symlink not followed or a special file copies nothing
	// up (the kernel refuses, or the open changes no file), except an
	// OpCreate of a directory (O_TMPFILE), answered with its staged copy.
	Open bool
	// Trunc: O_TRUNC. A copy-up need not copy the contents.
	Trunc bool
	// Excl: an exclusive create (mkdir, mknod, symlink, link's new path,
	// bind, O_CREAT|O_EXCL): a name that exists in the merged view fails
	// with EEXIST.
	Excl bool
	// RemoveDir: OpDelete is rmdir, or unlinkat with AT_REMOVEDIR.
	RemoveDir bool
	// Replace: OpCreate is rename's new path: an existing name is
	// replaced, never copied up.
	Replace bool
	// NoSymlinks and NoMagicLinks are openat2's RESOLVE_NO_SYMLINKS and
	// RESOLVE_NO_MAGICLINKS, applied in guest space: following a symlink
	// (any, or a /proc magic link) anywhere in the path fails with ELOOP.
	// The kernel cannot apply them to the host path, whose symlinks are
	// not the guest's.
	NoSymlinks, NoMagicLinks bool
}

// AfterKind says what Commit must do once the syscall's result is known.
type AfterKind uint8

const (
	// AfterNone: nothing; the tracer need not call Commit.
	AfterNone AfterKind = iota
	// AfterWhiteout: on success, the name now hides the lower layers'
	// entry of the same name.
	AfterWhiteout
	// AfterCreated: on success, a name was created in the stage: a
	// whiteout on it is cleared, and a directory created over a lower name
	// becomes opaque. On failure, a placeholder Resolve made is removed.
	AfterCreated
	// AfterChanged: on success, something changed: the cache is dropped.
	AfterChanged
)

// Answer is what the tracer applies.
type Answer struct {
	// Host is the path to hand to the kernel. Empty when Errno is set or
	// Skip is.
	Host string
	// Errno, when non-zero, fails the syscall without running it.
	Errno syscall.Errno
	// Guest is the canonical guest path the request resolved to (for
	// reports and for chdir).
	Guest string
	// Rule is the filemap rule that decided; nil if none matched.
	Rule *filemap.Rule
	// Layer says where a read was served from, for reports: when the
	// answer names an existing regular file of a lower layer of a redirect
	// rule (not the stage), it is that layer's directory, one of
	// Rule.HostPaths() (equal to Rule.Path for the host itself). Empty
	// otherwise: the stage, a grant, a missing name, a directory, /proc,
	// or an answer the resolver gave without looking the name up
	// (identity mode).
	Layer string
	// Skip: the effect is already done (a lower entry was whited out): the
	// tracer must not run the syscall, and returns 0.
	Skip bool
	// After is what Commit must do once the syscall's result is known: the
	// tracer calls Commit for every Answer whose After is not AfterNone.
	After AfterKind

	// Private to Commit.
	mark        string // canonical guest path of the name the marks apply to
	lower       bool   // a lower layer has the name (AfterCreated)
	placeholder bool   // Resolve made a placeholder at the stage path

	// Hidden: Options.Hide refused the host file Guest names.
	Hidden bool
}

// Options configure a Resolver.
type Options struct {
	// Stage is the staging directory (see OpenStage), the topmost layer of
	// every redirect rule; it receives every write under a redirect rule.
	// Nil means there is no stage: redirect rules are served from their
	// lower layers only, and writes under them fail with EROFS (the host
	// is read-only).
	Stage *Stage
	// AskFunc decides an access under an ask rule: 0 allows it (the path is
	// then served like a grant, host path = guest path), anything else is
	// the errno the guest gets. It is called for the last component of every
	// request that ends under an ask rule, and for each directory walked
	// through under one when that directory is not cached yet, so it must be
	// cheap, cache its own answers, and be safe for concurrent use. Nil means
	// every ask is refused with EACCES. vroot.Run plugs an ask.Asker in
	// here (package ask: the handler kinds, the cache, the timeout).
	AskFunc func(rule *filemap.Rule, guest string, req Request) syscall.Errno
	// Hide may hide host files from reads (--only-deps). It is called when
	// a request that does not write (OpRead, OpExec, OpChdir) finds a
	// non-directory (a file, a symlink, a special file) under a redirect
	// rule in a lower layer at its own guest path, that is the host's own
	// file, not an SDK's nor the stage's: for the last component, and for
	// each symlink the last component follows. dir is the canonical guest
	// (and host) directory, name the name in it. A non-zero errno fails the
	// request, with Answer.Hidden and Answer.Guest naming the file. Grants,
	// writes and directories never ask. It is called on the hot path: it
	// must be cheap, cache its own answers, and be safe for concurrent use.
	Hide func(dir, name string) syscall.Errno
}
