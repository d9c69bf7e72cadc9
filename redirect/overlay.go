package redirect

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// copiedBytes counts the bytes copy-ups copied, for tests.
var copiedBytes atomic.Int64

// listing reports whether the request opens its object for reading, so
// that a merged directory must be answered with a synthesized listing.
func (w *walker) listing() bool {
	return w.req.Open && w.req.Op == OpRead && w.r.st != nil
}

// self answers a request whose object is the directory t itself (a last
// component that is a directory, ".", "..", or the root) when the overlay
// has something to say: a write under a redirect rule (a copy-up of the
// directory), or an open for reading of a merged directory. ok=false
// means the ordinary answer stands.
func (w *walker) self(t *dirEntry, slash bool) (Answer, bool) {
	if t.native {
		return Answer{}, false
	}
	switch {
	case w.req.Op == OpWrite && isRedirect(t.rule) && !t.pass:
		s := w.r.st
		switch {
		case w.req.Open:
			// Opening a directory for writing: the kernel says EISDIR,
			// without writing anything.
			if s == nil {
				return Answer{Errno: syscall.EISDIR, Guest: t.guest, Rule: t.rule}, true
			}
			return w.answer(t.hosts[0], "", slash, t.guest, "", t.rule), true
		case s == nil:
			return Answer{Errno: syscall.EROFS, Guest: t.guest, Rule: t.rule}, true
		case w.dry:
			w.fin = final{ok: true, dir: t, slash: slash}
			return Answer{}, true
		}
		return w.writeSelf(t, slash), true
	case w.listing():
		return w.r.union(w, t, slash)
	}
	return Answer{}, false
}

// writeSelf copies directory t up for a write (chmod, utimes, ... of ".").
func (w *walker) writeSelf(t *dirEntry, slash bool) Answer {
	if !t.staged {
		if errno := w.copyUp(t.guest, t.hosts[0], false); errno != 0 {
			return Answer{Errno: errno, Guest: t.guest, Rule: t.rule}
		}
	}
	a := w.answer(t.stage, "", slash, t.guest, "", t.rule)
	a.After, a.mark = AfterChanged, t.guest
	return a
}

// write answers a request that modifies name in d under a redirect rule:
// the overlay's table (see Resolver).
func (w *walker) write(d *dirEntry, name string, c *child, slash bool) Answer {
	s, req := w.r.st, w.req
	g := join(d.guest, name)
	if s == nil {
		return w.readonly(d, name, c, slash)
	}
	exists := c.kind != kMissing
	inStage := exists && c.layer == 0
	here := hostJoin(c.pfx[c.layer], c.name) // where the name is, or would be
	sp := joinPath(s.root, g)
	fail := func(e syscall.Errno) Answer { return Answer{Errno: e, Guest: g, Rule: c.rule} }
	staged := func(after AfterKind) Answer {
		a := w.answer(sp, "", slash, d.guest, name, c.rule)
		a.After, a.mark = after, g
		return a
	}

	// modify is OpWrite, and O_CREAT on an existing name: copy-up.
	modify := func() Answer {
		if !exists {
			return fail(syscall.ENOENT)
		}
		if slash && c.kind != kDir {
			return fail(syscall.ENOTDIR)
		}
		if req.Open && req.Op == OpCreate && c.kind == kDir {
			// O_TMPFILE names the directory its file goes in (the tracer
			// cannot tell it from O_CREAT, which fails with EISDIR on any
			// directory): the stage's copy of it.
			if !inStage {
				if errno := w.copyUp(g, here, false); errno != 0 {
					return fail(errno)
				}
			}
			return staged(AfterChanged)
		}
		if req.Open && (c.kind != kOther || c.mode&unix.S_IFMT != unix.S_IFREG) {
			// A directory (EISDIR), a symlink not followed (ELOOP): the
			// kernel refuses. A fifo or a device: opening it changes no
			// file. Nothing to copy up.
			return w.answer(here, "", slash, d.guest, name, c.rule)
		}
		if !inStage {
			if errno := w.copyUp(g, here, !req.Trunc); errno != 0 {
				return fail(errno)
			}
		}
		return staged(AfterChanged)
	}

	switch req.Op {
	case OpWrite:
		return modify()

	case OpCreate:
		if req.Open && slash {
			// O_CREAT with a trailing slash: EISDIR before any lookup.
			return fail(syscall.EISDIR)
		}
		if !exists {
			if errno := w.parents(d.guest); errno != 0 {
				return fail(errno)
			}
			return staged(AfterCreated)
		}
		switch {
		case req.Excl:
			return fail(syscall.EEXIST)
		case req.Replace:
			return w.replace(d, name, g, c, inStage, slash)
		}
		return modify()

	case OpDelete:
		if !exists {
			return fail(syscall.ENOENT)
		}
		if inStage {
			lower := w.lowerOf(c)
			if req.RemoveDir && c.kind == kDir && lower == kDir {
				if errno := w.lowerNotEmpty(g); errno != 0 {
					return fail(errno)
				}
			}
			if lower != kMissing {
				return staged(AfterWhiteout)
			}
			return staged(AfterChanged)
		}
		// Only a lower layer has it: check as the kernel would on the
		// merged tree, then hide it. No syscall runs.
		if req.RemoveDir {
			if c.kind != kDir {
				return fail(syscall.ENOTDIR)
			}
			if errno := w.lowerNotEmpty(g); errno != 0 {
				return fail(errno)
			}
		} else {
			if c.kind == kDir {
				return fail(syscall.EISDIR)
			}
			if slash {
				return fail(syscall.ENOTDIR)
			}
		}
		if errno := mayModify(d.hosts[0]); errno != 0 {
			return fail(errno)
		}
		if err := s.record(false, rec{'W', g}); err != nil {
			return fail(syscall.EIO)
		}
		w.r.Invalidate(g)
		return Answer{Skip: true, Guest: g, Rule: c.rule}

	case OpMove:
		if !exists {
			return fail(syscall.ENOENT)
		}
		if slash && c.kind != kDir {
			return fail(syscall.ENOTDIR)
		}
		if inStage {
			lower := w.lowerOf(c)
			if c.kind == kDir && lower == kDir && !s.isOpaque(g) && !s.isWhite(g) {
				// A merged directory: overlayfs (without redirect_dir)
				// says EXDEV, and mv copies.
				return fail(syscall.EXDEV)
			}
			if lower != kMissing {
				return staged(AfterWhiteout)
			}
			return staged(AfterChanged)
		}
		if c.kind == kDir {
			return fail(syscall.EXDEV)
		}
		if errno := w.copyUp(g, here, true); errno != 0 {
			return fail(errno)
		}
		return staged(AfterWhiteout)
	}
	return w.answer(here, "", slash, d.guest, name, c.rule)
}

// replace answers rename's new path when the name exists: the kernel must
// see what the merged tree has there, to replace it or refuse with its own
// errno. A staged entry is there already. For a lower one, a placeholder of
// the same kind is put in the stage: an empty file for a non-directory
// (removed by Commit if the rename fails), an empty copy of a directory
// when the merged directory is empty (a copy-up), and ENOTEMPTY when it is
// not (without a placeholder, a file source gets ENOTEMPTY where the kernel
// says EISDIR).
func (w *walker) replace(d *dirEntry, name, g string, c *child, inStage, slash bool) Answer {
	s := w.r.st
	fail := func(e syscall.Errno) Answer { return Answer{Errno: e, Guest: g, Rule: c.rule} }
	lower := true
	if inStage {
		lk := w.lowerOf(c)
		lower = lk != kMissing
		if c.kind == kDir && lk == kDir {
			if errno := w.lowerNotEmpty(g); errno != 0 {
				return fail(errno)
			}
		}
	}
	placeholder := false
	if !inStage {
		if c.kind == kDir {
			if errno := w.lowerNotEmpty(g); errno != 0 {
				return fail(errno)
			}
			if errno := w.copyUp(g, hostJoin(c.pfx[c.layer], c.name), false); errno != 0 {
				return fail(errno)
			}
		} else {
			if errno := w.parents(d.guest); errno != 0 {
				return fail(errno)
			}
			s.cmu.Lock()
			f, err := s.rootFS.OpenFile(rel(g), os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
			s.cmu.Unlock()
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return fail(errnoOf(err))
			}
			if err == nil {
				f.Close()
				placeholder = true
			}
			w.r.Invalidate(g)
		}
	}
	a := w.answer(joinPath(s.root, g), "", slash, d.guest, name, c.rule)
	a.After, a.mark, a.lower, a.placeholder = AfterCreated, g, lower, placeholder
	return a
}

// readonly answers a write under a redirect rule when there is no stage:
// the host is a read-only file system, whose errnos come in the kernel's
// order (a missing name, an exclusive create of an existing one and the
// directory checks of open come before EROFS).
func (w *walker) readonly(d *dirEntry, name string, c *child, slash bool) Answer {
	req := w.req
	g := join(d.guest, name)
	exists := c.kind != kMissing
	special := c.kind == kOther && c.mode&unix.S_IFMT != unix.S_IFREG
	e := syscall.EROFS
	switch req.Op {
	case OpWrite:
		switch {
		case !exists:
			e = syscall.ENOENT
		case slash && c.kind != kDir:
			e = syscall.ENOTDIR
		case req.Open && c.kind == kDir:
			e = syscall.EISDIR
		case req.Open && c.kind == kLink:
			e = syscall.ELOOP
		case req.Open && special:
			// Opening a fifo or a device for writing writes no file.
			return w.answer(hostJoin(c.pfx[c.layer], c.name), "", slash, d.guest, name, c.rule)
		}
	case OpCreate:
		switch {
		case req.Open && slash:
			e = syscall.EISDIR
		case exists && req.Excl:
			e = syscall.EEXIST
		case exists && req.Open && c.kind == kDir:
			e = syscall.EISDIR
		case exists && req.Open && special && !req.Replace:
			return w.answer(hostJoin(c.pfx[c.layer], c.name), "", slash, d.guest, name, c.rule)
		}
	}
	return Answer{Errno: e, Guest: g, Rule: c.rule}
}

// lowerOf is what the lower layers have at c's name, ignoring whiteouts (what
// would show if the staged entry went away and nothing hid it): kMissing
// when none has it. c must be under the overlay (c.ov).
func (w *walker) lowerOf(c *child) uint8 {
	for _, p := range c.pfx[1:] {
		if k, e := lstatKind(p, c.name, false); e == 0 {
			return k
		}
	}
	return kMissing
}

// lowerNotEmpty fails with ENOTEMPTY when the merged directory g has a
// visible entry in a lower layer (the kernel checks the staged one).
func (w *walker) lowerNotEmpty(g string) syscall.Errno {
	e, _, errno := w.lookupDir(g, 0)
	if errno != 0 {
		return errno
	}
	hosts := e.hosts
	if e.staged {
		hosts = hosts[1:]
	}
	s := w.r.st
	for _, h := range hosts {
		f, err := os.Open(h)
		if err != nil {
			return errnoOf(err)
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			return errnoOf(err)
		}
		for _, n := range names {
			if !s.whited(g, n) {
				return syscall.ENOTEMPTY
			}
		}
	}
	return 0
}

// mayModify checks that a directory of the merged view may have its
// entries removed, as its staged copy would allow: the stage is owned by
// vroot's user, and holds the lower directory's mode, so the owner's bits
// decide.
func mayModify(dir string) syscall.Errno {
	if os.Geteuid() == 0 {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return errnoOf(err)
	}
	if st.Mode&0o300 != 0o300 {
		return syscall.EACCES
	}
	return 0
}

// parents makes sure the stage has guest directory gdir, creating each
// missing directory with the mode and times of the merged view's.
func (w *walker) parents(gdir string) syscall.Errno {
	s := w.r.st
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return w.parentsLocked(gdir)
}

func (w *walker) parentsLocked(gdir string) syscall.Errno {
	s := w.r.st
	if gdir == "/" {
		return 0
	}
	if fi, err := s.rootFS.Lstat(rel(gdir)); err == nil {
		if fi.IsDir() {
			return 0
		}
		return syscall.ENOTDIR
	}
	type made struct {
		g            string
		atime, mtime unix.Timespec
	}
	var created []made
	p := "/"
	for _, name := range strings.Split(gdir[1:], "/") {
		p = join(p, name)
		fi, err := s.rootFS.Lstat(rel(p))
		if err == nil {
			if !fi.IsDir() {
				return syscall.ENOTDIR
			}
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return errnoOf(err)
		}
		e, _, errno := w.lookupDir(p, 0)
		if errno != 0 {
			return errno
		}
		var st unix.Stat_t
		if err := unix.Stat(e.hosts[0], &st); err != nil {
			return errnoOf(err)
		}
		errno = s.at(parentOf(p), func(pfd int) error {
			return mkdirMode(pfd, name, st.Mode&0o7777)
		})
		if errno == syscall.EEXIST {
			continue
		}
		if errno != 0 {
			return errno
		}
		created = append(created, made{p, st.Atim, st.Mtim})
	}
	recs := make([]rec, 0, len(created))
	for _, m := range created {
		_, name := splitLast(m.g)
		s.at(parentOf(m.g), func(pfd int) error {
			return unix.UtimesNanoAt(pfd, name, []unix.Timespec{m.atime, m.mtime}, unix.AT_SYMLINK_NOFOLLOW)
		})
		recs = append(recs, rec{'C', m.g})
	}
	s.record(true, recs...)
	w.r.Invalidate(gdir)
	return 0
}

// at runs fn on the staged directory of guest g, opened through the
// os.Root: fn acts on single names relative to it, without following them.
func (s *Stage) at(g string, fn func(dirfd int) error) syscall.Errno {
	f, err := s.openDir(g)
	if err != nil {
		return errnoOf(err)
	}
	defer f.Close()
	return errnoOf(fn(int(f.Fd())))
}

// mkdirMode makes directory name in dirfd with exactly mode (no umask).
func mkdirMode(dirfd int, name string, mode uint32) error {
	if err := unix.Mkdirat(dirfd, name, 0o700); err != nil {
		return err
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Fchmod(fd, mode)
}

// copyUp stages guest g, a copy of host object src (a lower layer's), with
// its parents: a regular file's contents (unless !contents), mode and
// times; a directory's mode and times (not its entries: the lower ones
// still show through); a symlink's target; a fifo. A device or a socket
// cannot be made without privileges: EPERM. The copy is made in
// .vroot/tmp and renamed into place, so that no half-copied file is ever
// seen under its name (a directory is made in place, empty). The parent's
// times are kept, as overlayfs keeps them.
func (w *walker) copyUp(g, src string, contents bool) syscall.Errno {
	s := w.r.st
	s.cmu.Lock()
	defer s.cmu.Unlock()
	defer w.r.Invalidate(g)
	if _, err := s.rootFS.Lstat(rel(g)); err == nil {
		return 0 // staged meanwhile
	}
	gdir, name := splitLast(g)
	if errno := w.parentsLocked(gdir); errno != 0 {
		return errno
	}
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return errnoOf(err)
	}
	mode := st.Mode & 0o7777
	times := []unix.Timespec{st.Atim, st.Mtim}
	errno := s.at(gdir, func(pfd int) error {
		var pst unix.Stat_t
		if err := unix.Fstat(pfd, &pst); err != nil {
			return err
		}
		var err error
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err = mkdirMode(pfd, name, mode); err == nil {
				err = unix.UtimesNanoAt(pfd, name, times, unix.AT_SYMLINK_NOFOLLOW)
			}
		case unix.S_IFREG, unix.S_IFLNK, unix.S_IFIFO:
			err = s.copyInto(pfd, name, src, &st, contents)
		default:
			return syscall.EPERM
		}
		if err != nil {
			return err
		}
		// Keep the parent's times, as overlayfs does.
		futimens(pfd, pst.Atim, pst.Mtim)
		return nil
	})
	if errno != 0 {
		return errno
	}
	s.record(true, rec{'C', g})
	return 0
}

// copyInto makes a copy of the non-directory src in .vroot/tmp and renames
// it to name in dirfd, unless something took that name meanwhile.
func (s *Stage) copyInto(dirfd int, name, src string, st *unix.Stat_t, contents bool) error {
	tmp := filepath.Join(s.tmp, "copy-"+strconv.FormatUint(uint64(nextTmp.Add(1)), 10)+"-"+strconv.Itoa(os.Getpid()))
	times := []unix.Timespec{st.Atim, st.Mtim}
	mode := st.Mode & 0o7777
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		err = copyFileTo(tmp, src, mode, times, contents)
	case unix.S_IFLNK:
		var tgt string
		if tgt, err = os.Readlink(src); err == nil {
			if err = unix.Symlink(tgt, tmp); err == nil {
				err = unix.UtimesNanoAt(unix.AT_FDCWD, tmp, times, unix.AT_SYMLINK_NOFOLLOW)
			}
		}
	case unix.S_IFIFO:
		if err = unix.Mkfifo(tmp, 0o600); err == nil {
			if err = unix.Chmod(tmp, mode); err == nil {
				err = unix.UtimesNanoAt(unix.AT_FDCWD, tmp, times, unix.AT_SYMLINK_NOFOLLOW)
			}
		}
	}
	if err == nil {
		err = unix.Renameat2(unix.AT_FDCWD, tmp, dirfd, name, unix.RENAME_NOREPLACE)
		if err == unix.EEXIST {
			err = nil // staged by someone else meanwhile: theirs stands
		}
	}
	os.Remove(tmp)
	return err
}

var nextTmp atomic.Uint64

// copyFileTo writes a copy of regular file src at tmp, with mode and times.
func copyFileTo(tmp, src string, mode uint32, times []unix.Timespec, contents bool) error {
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	if contents {
		in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		n, err := io.Copy(out, in)
		in.Close()
		copiedBytes.Add(n)
		if err != nil {
			return err
		}
	}
	fd := int(out.Fd())
	if err := unix.Fchmod(fd, mode); err != nil {
		return err
	}
	if err := futimens(fd, times[0], times[1]); err != nil {
		return err
	}
	return out.Close()
}

// futimens sets the times of an open file.
func futimens(fd int, atime, mtime unix.Timespec) error {
	ts := [2]unix.Timespec{atime, mtime}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// errnoOf extracts the errno of an error from the os or unix packages.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, fs.ErrNotExist) {
		return syscall.ENOENT
	}
	if errors.Is(err, fs.ErrExist) {
		return syscall.EEXIST
	}
	if errors.Is(err, fs.ErrPermission) {
		return syscall.EACCES
	}
	return syscall.EIO
}

// Commit records the outcome of a syscall the tracer ran on an Answer
// whose After is not AfterNone; ok says the syscall returned >= 0. On
// success it records the whiteout, opaque and copy marks the answer calls
// for, durably (fsync'ed) before it returns; on failure it removes a
// placeholder Resolve made. It drops the cache in every case. It is safe
// for concurrent use.
func (r *Resolver) Commit(a Answer, ok bool) {
	if a.After == AfterNone {
		return
	}
	if s := r.st; s != nil && a.mark != "" {
		switch a.After {
		case AfterWhiteout:
			if ok {
				s.record(true, rec{'W', a.mark})
			}
		case AfterCreated:
			if ok {
				s.created(a.mark, a.lower)
			} else if a.placeholder {
				s.dropPlaceholder(a.mark)
			}
		}
	}
	r.Invalidate(a.mark)
}

// created records that guest g was created in the stage: a whiteout on it
// is cleared; over a lower name (whited out or replaced), the entry
// modifies that name, and a directory becomes opaque.
func (s *Stage) created(g string, lower bool) {
	s.mu.RLock()
	was := s.white[g]
	s.mu.RUnlock()
	var recs []rec
	if was {
		recs = append(recs, rec{'U', g})
	}
	if was || lower {
		if fi, err := s.rootFS.Lstat(rel(g)); err == nil && fi.IsDir() {
			recs = append(recs, rec{'O', g})
		}
		recs = append(recs, rec{'C', g})
	}
	s.record(true, recs...)
}

// dropPlaceholder removes the empty file replace put at guest g.
func (s *Stage) dropPlaceholder(g string) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if fi, err := s.rootFS.Lstat(rel(g)); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		s.rootFS.Remove(rel(g))
	}
}

// unionDir is the synthesized listing of one merged directory.
type unionDir struct {
	gen  *dirCache // the cache generation it was last checked in
	n    int
	host string
	sig  string // what it was made from: entries, mode, times
}

// uent is one entry of a merged listing.
type uent struct {
	name   string
	typ    uint32 // S_IFDIR, S_IFLNK, S_IFIFO or S_IFREG
	target string // a symlink's
}

// union answers an open for reading of directory e with a synthesized
// listing when e is merged: present in several layers (the stage and a
// lower one, or several lower ones), with whiteouts below it, or holding
// the stage itself. The listing is a directory in .vroot/merged/N with one
// entry per visible name, of the right type (a file, a directory, a
// symlink with its target, a fifo; a device or a socket shows as a regular
// file), and the mode and times of the merged directory. It is reused
// while the cache generation has not changed, and while its contents would
// be the same; a superseded one stays for mergedGrace, for the process
// still reading it.
func (r *Resolver) union(w *walker, e *dirEntry, slash bool) (Answer, bool) {
	s := r.st
	need := len(e.hosts) >= 2 || e.stage != "" && !e.staged && s.hasWhiteKids(e.guest)
	for _, h := range e.hosts {
		if h == s.parent {
			need = true
		}
	}
	if !need {
		return Answer{}, false
	}
	ok := func(host string) (Answer, bool) {
		if slash {
			host += "/"
		}
		return Answer{Host: host, Guest: e.guest, Rule: e.rule}, true
	}
	fail := func(err error) (Answer, bool) {
		return Answer{Errno: errnoOf(err), Guest: e.guest, Rule: e.rule}, true
	}
	r.umu.Lock()
	defer r.umu.Unlock()
	u := r.unions[e.guest]
	if u != nil && u.gen == w.c {
		return ok(u.host)
	}
	ents, err := s.listUnion(e)
	if err != nil {
		return fail(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(e.hosts[0], &st); err != nil {
		return fail(err)
	}
	var sig strings.Builder
	sig.WriteString(strconv.FormatUint(uint64(st.Mode), 8))
	// Not the atime: reading the directory may change it.
	sig.WriteString(" " + strconv.FormatInt(st.Mtim.Sec, 10) + "." + strconv.FormatInt(st.Mtim.Nsec, 10))
	for _, x := range ents {
		sig.WriteString("\x00" + x.name + "\x00" + strconv.FormatUint(uint64(x.typ), 8) + "\x00" + x.target)
	}
	if u != nil && u.sig == sig.String() {
		u.gen = w.c
		return ok(u.host)
	}
	n, dir := s.newMerged(e.guest)
	if err := synthesize(dir, ents, st.Mode&0o7777, st.Atim, st.Mtim); err != nil {
		removeAll(dir)
		return fail(err)
	}
	if u != nil {
		s.supersede(u.n)
	}
	r.unions[e.guest] = &unionDir{gen: w.c, n: n, host: dir, sig: sig.String()}
	return ok(dir)
}

// listUnion reads the visible entries of merged directory e, by name.
func (s *Stage) listUnion(e *dirEntry) ([]uent, error) {
	seen := make(map[string]bool)
	var ents []uent
	for i, h := range e.hosts {
		f, err := os.Open(h)
		if err != nil {
			return nil, err
		}
		des, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return nil, err
		}
		upper := e.staged && i == 0
		for _, de := range des {
			n := de.Name()
			if seen[n] {
				continue
			}
			seen[n] = true
			if !upper && e.stage != "" && s.whited(e.guest, n) {
				continue
			}
			if h == s.parent && n == s.base {
				continue
			}
			x := uent{name: n, typ: unix.S_IFREG}
			switch t := de.Type(); {
			case t&fs.ModeDir != 0:
				x.typ = unix.S_IFDIR
			case t&fs.ModeSymlink != 0:
				x.typ = unix.S_IFLNK
				if x.target, err = os.Readlink(filepath.Join(h, n)); err != nil {
					return nil, err
				}
			case t&fs.ModeNamedPipe != 0:
				x.typ = unix.S_IFIFO
			}
			ents = append(ents, x)
		}
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
	return ents, nil
}

// synthesize makes directory dir with ents, then gives it mode and times.
func synthesize(dir string, ents []uent, mode uint32, atime, mtime unix.Timespec) error {
	if err := unix.Mkdir(dir, 0o700); err != nil {
		return err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, x := range ents {
		switch x.typ {
		case unix.S_IFDIR:
			err = unix.Mkdirat(fd, x.name, 0o755)
		case unix.S_IFLNK:
			err = unix.Symlinkat(x.target, fd, x.name)
		case unix.S_IFIFO:
			err = unix.Mkfifoat(fd, x.name, 0o644)
		default:
			var f int
			if f, err = unix.Openat(fd, x.name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644); err == nil {
				unix.Close(f)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return err
	}
	return futimens(fd, atime, mtime)
}
