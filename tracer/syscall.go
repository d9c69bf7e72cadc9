package tracer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/internal/linux"
	"github.com/vroot-dev/vroot/redirect"
)

const pathMax = 4096

// The scratch area is mapped into every address space that needs a
// rewritten argument. Each thread writes into the slot its tid hashes to,
// so that concurrent syscalls of one address space rarely share a slot.
const (
	slotPath0    = 0
	slotPath1    = pathMax + 256
	slotStruct   = 2 * (pathMax + 256)
	slotSize     = 3 * 4096
	scratchSlots = 64
	scratchSize  = slotSize * scratchSlots
)

func (mm *mmState) contains(p uint64) bool {
	return mm.scratch != 0 && uintptr(p) >= mm.scratch && uintptr(p) < mm.scratch+scratchSize
}

func (t *task) slot() uintptr {
	return t.mm.scratch + uintptr(t.tid%scratchSlots)*slotSize
}

// stop collects what the handling of one seccomp stop decided.
type stop struct {
	t       *task
	ent     *Sysent
	args    [6]uint64
	changed bool
	// writes are copied into the scratch slot before the registers change.
	writes []scratchWrite
	skip   bool
	ret    int64
	exit   exitAction
	// hosts and follows are the answers of the path arguments, by index
	// in ent.Paths ("" for a NULL or empty path), for --fakeroot.
	hosts   [2]string
	follows [2]bool
	// setNr replaces the syscall with nr (hostile.go: fd-based metadata
	// changes become path-based ones on the staged copy).
	setNr bool
	nr    int
	// fdHost is the staged copy's host path when setNr turned an fd-based
	// metadata change into a path-based one (for --fakeroot).
	fdHost string
}

type scratchWrite struct {
	off  uintptr
	data []byte
	// reloc0 says the first 8 bytes of data are a scratch-slot offset that
	// must become an absolute address once the slot is known (a pointer
	// inside a copied struct).
	reloc0 bool
}

// onSeccomp handles a RET_TRACE stop.
//
// Preconditions: called on the tracer's locked OS thread.
func (e *engine) onSeccomp(t *task) {
	if err := linux.GetSyscallInfo(t.tid, &e.info); err != nil || e.info.Op != linux.SyscallInfoSeccomp {
		e.resume(t, 0)
		return
	}
	ent := lookupSysent(int(e.info.Nr))
	s := &e.cur
	*s = stop{t: t, ent: ent, args: e.info.Args, writes: s.writes[:0]}
	e.arenaOff = 0
	t.ncommits = 0
	t.fk = fakeExit{}
	switch {
	case ent == nil && isNoPath(int(e.info.Nr)):
		// The build's own filter asked for a trace of a call that carries
		// no path: nothing to translate. --fakeroot traces a few of them.
		if e.fake != nil {
			e.fakeNoPath(s, int(e.info.Nr))
		}
	case ent == nil:
		// A number the table does not know: never let it reach the kernel
		// untranslated.
		s.fail(unix.ENOSYS)
	case ent.Kind == KindPath:
		e.translatePaths(s)
		if e.fake != nil && !s.skip {
			e.fakePath(s)
		}
	case ent.Kind == KindSpecial:
		e.special(s)
		if e.fake != nil && !s.skip {
			e.fakeFdMeta(s)
		}
	}
	e.apply(s)
}

// bytes returns n zeroed bytes for a scratch write of the current stop:
// they live until the stop is applied.
func (e *engine) bytes(n int) []byte {
	if e.arenaOff+n > len(e.arena) {
		// Cannot happen: every write of a stop lands in one slot.
		return make([]byte, n)
	}
	b := e.arena[e.arenaOff : e.arenaOff+n : e.arenaOff+n]
	clear(b)
	e.arenaOff += n
	return b
}

func (s *stop) fail(errno syscall.Errno) {
	s.skip = true
	s.ret = -int64(errno)
}

// apply writes the decisions of a stop into the tracee and resumes it.
func (e *engine) apply(s *stop) {
	t := s.t
	if s.skip {
		// The syscall will not run: whatever a path prepared is finished
		// as failed.
		e.abandonCommits(t)
		if err := getRegs(t.tid, &e.regs); err == nil {
			if err := regsSkip(t.tid, &e.regs, s.ret); err != nil {
				e.log.Debug("skip", "tid", t.tid, "error", err)
			}
		}
		e.resume(t, 0)
		return
	}
	if len(s.writes) > 0 || s.changed {
		if len(s.writes) > 0 && t.mm.scratch == 0 {
			// No scratch area yet in this address space: inject an mmap in
			// place of this syscall, then make the tracee run the syscall
			// again; its next stop finds the area and resolves anew, so
			// what this pass prepared is finished as not run.
			e.abandonCommits(t)
			e.injectMmap(t)
			return
		}
		if e.cfg.Strict && !t.mm.sealed {
			e.abandonCommits(t)
			e.injectMseal(t)
			return
		}
		base := t.slot()
		for _, w := range s.writes {
			if w.reloc0 {
				binary.LittleEndian.PutUint64(w.data, uint64(base)+binary.LittleEndian.Uint64(w.data))
			}
			if err := e.writeScratch(t, base+w.off, w.data); err != nil {
				e.log.Debug("write scratch", "tid", t.tid, "error", err)
				s.fail(unix.EFAULT)
				s.writes = nil
				e.apply(s)
				return
			}
		}
		for i := range s.args {
			if s.args[i]&scratchRelative != 0 {
				s.args[i] = uint64(base) + (s.args[i] &^ scratchRelative)
			}
		}
		if s.setNr {
			err := getRegs(t.tid, &e.regs)
			if err == nil {
				err = regsSetSyscall(t.tid, &e.regs, s.nr, s.args)
			}
			if err != nil {
				e.log.Debug("set syscall", "tid", t.tid, "error", err)
				s.fail(unix.EFAULT)
				s.writes, s.changed, s.setNr = nil, false, false
				e.apply(s)
				return
			}
		} else if err := e.setArgs(t, s.args); err != nil {
			e.log.Debug("set args", "tid", t.tid, "error", err)
			s.fail(unix.EFAULT)
			s.writes, s.changed = nil, false
			e.apply(s)
			return
		}
	}
	t.exit = s.exit
	if s.exit != exitNone {
		if err := linux.Syscall(t.tid, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			e.log.Debug("syscall", "tid", t.tid, "error", err)
		}
		return
	}
	e.resume(t, 0)
}

// abandonCommits tells the resolver that the answers it prepared for this
// stop were not used, so that it can undo what it prepared.
func (e *engine) abandonCommits(t *task) {
	for i := 0; i < t.ncommits; i++ {
		e.res.Commit(t.commits[i], false)
		t.commits[i] = redirect.Answer{}
	}
	t.ncommits = 0
}

// scratchRelative marks an argument value as an offset into the task's
// scratch slot, resolved once the slot's address is known.
const scratchRelative = 1 << 63

func (e *engine) setArgs(t *task, args [6]uint64) error {
	if e.setInfoOK >= 0 {
		e.info.Args = args
		err := linux.SetSyscallInfo(t.tid, &e.info)
		if err == nil {
			e.setInfoOK = 1
			return nil
		}
		if e.setInfoOK == 1 {
			return err
		}
		e.setInfoOK = -1
	}
	if err := getRegs(t.tid, &e.regs); err != nil {
		return err
	}
	for i, a := range args {
		*regsArg(&e.regs, i) = a
	}
	return setRegs(t.tid, &e.regs)
}

func (e *engine) injectMmap(t *task) {
	prot := uint64(unix.PROT_READ | unix.PROT_WRITE)
	if e.cfg.Strict {
		// Read-only to the tracee; vroot writes it through /proc/PID/mem
		// (strict.go), then seals it.
		prot = unix.PROT_READ
	}
	e.inject(t, unix.SYS_MMAP, [6]uint64{0, scratchSize, prot, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, ^uint64(0), 0}, exitMmap)
}

// inject runs syscall nr in place of the one the tracee stopped in; the
// exit stop (act) restarts the original.
func (e *engine) inject(t *task, nr int, args [6]uint64, act exitAction) {
	if err := getRegs(t.tid, &t.saved); err != nil {
		e.resume(t, 0)
		return
	}
	r := t.saved
	if err := regsSetSyscall(t.tid, &r, nr, args); err != nil {
		e.resume(t, 0)
		return
	}
	t.exit = act
	if err := linux.Syscall(t.tid, 0); err != nil {
		e.log.Debug("syscall", "tid", t.tid, "error", err)
	}
}

// onSyscallExit finishes what a seccomp stop started.
//
// Preconditions: called on the tracer's locked OS thread.
func (e *engine) onSyscallExit(t *task) {
	act := t.exit
	t.exit = exitNone
	switch act {
	case exitMmap:
		if err := getRegs(t.tid, &e.regs); err == nil {
			ret := regsRet(&e.regs)
			if ret < 0 && ret > -4096 {
				// Out of memory in the tracee: fail the original syscall.
				r := t.saved
				regsSetRet(t.tid, &r, ret)
				e.resume(t, 0)
				return
			}
			t.mm.scratch = uintptr(ret)
		}
		if err := regsRestart(t.tid, &t.saved); err != nil {
			e.log.Debug("restart", "tid", t.tid, "error", err)
		}
	case exitMseal:
		e.sealed(t)
		if err := regsRestart(t.tid, &t.saved); err != nil {
			e.log.Debug("restart", "tid", t.tid, "error", err)
		}
	case exitChdir:
		if e.exitRet(t) == 0 {
			t.fs.guestCwd = t.exitGuest[0]
			t.fs.hostCwd = trimSlash(t.exitHost)
		}
	case exitFchdir:
		if e.exitRet(t) == 0 {
			e.refreshCwd(t)
		}
	case exitReadlink:
		e.fixReadlink(t)
	case exitCommit:
		ok := e.exitRet(t) >= 0
		for i := 0; i < t.ncommits; i++ {
			e.res.Commit(t.commits[i], ok)
			t.commits[i] = redirect.Answer{}
		}
		t.ncommits = 0
	case exitInvalidate:
		if e.exitRet(t) == 0 {
			for _, g := range t.exitGuest {
				if g != "" {
					e.res.Invalidate(g)
				}
			}
		}
	}
	if t.fk.op != fakeNone {
		if act != exitMmap {
			e.fakeExit(t)
		}
		t.fk = fakeExit{}
	}
	t.exitGuest = [2]string{}
	e.resume(t, 0)
}

func (e *engine) exitRet(t *task) int64 {
	if err := linux.GetSyscallInfo(t.tid, &e.info); err != nil || e.info.Op != linux.SyscallInfoExit {
		return -int64(unix.EIO)
	}
	return e.info.ExitRval()
}

func (e *engine) refreshCwd(t *task) {
	host, err := readlinkString(procFd(t.tid, unix.AT_FDCWD))
	if err != nil {
		return
	}
	t.fs.hostCwd = host
	if g, ok := e.res.GuestPath(host); ok {
		t.fs.guestCwd = g
	} else {
		t.fs.guestCwd = host
	}
}

// fixReadlink maps the host path a /proc magic link returned to the guest.
func (e *engine) fixReadlink(t *task) {
	n := e.exitRet(t)
	if n <= 0 || uint64(n) > t.exitSize {
		return
	}
	buf := e.buf[:n]
	if got, err := linux.ReadMem(t.tid, uintptr(t.exitBuf), buf); err != nil || got != int(n) {
		return
	}
	if buf[0] != '/' {
		return
	}
	g, ok := e.res.GuestPath(string(buf))
	if !ok || g == string(buf) {
		return
	}
	out := []byte(g)
	if uint64(len(out)) > t.exitSize {
		out = out[:t.exitSize]
	}
	if linux.WriteMem(t.tid, uintptr(t.exitBuf), out) != nil {
		return
	}
	if getRegs(t.tid, &e.regs) == nil {
		regsSetRet(t.tid, &e.regs, int64(len(out)))
	}
}

func readlinkString(p string) (string, error) {
	var b [pathMax]byte
	for {
		n, err := unix.Readlink(p, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		return string(b[:n]), nil
	}
}

// readPath reads a NUL-terminated path from the tracee, failing the way
// the kernel's getname does.
func (e *engine) readPath(t *task, addr uint64) (string, syscall.Errno) {
	n, err := linux.ReadMem(t.tid, uintptr(addr), e.buf[:pathMax])
	if err != nil || n == 0 {
		// An unreadable pointer: fail closed rather than let the kernel
		// read memory another thread may fill in the meantime.
		var v [8]byte
		word, perr := linux.PeekData(t.tid, uintptr(addr))
		if perr != nil {
			return "", unix.EFAULT
		}
		for i := range v {
			v[i] = byte(word >> (8 * i))
		}
		if i := bytes.IndexByte(v[:], 0); i >= 0 {
			return e.paths.bytes(v[:i]), 0
		}
		return "", unix.EFAULT
	}
	if i := bytes.IndexByte(e.buf[:n], 0); i >= 0 {
		return e.paths.bytes(e.buf[:i]), 0
	}
	if n < pathMax {
		return "", unix.EFAULT
	}
	return "", unix.ENAMETOOLONG
}

// procFd names the /proc link of a task's fd (its cwd for AT_FDCWD), for
// the paths off the hot path; procFdPath is the hot path's.
func procFd(tid int, fd int32) string {
	if fd == unix.AT_FDCWD {
		return "/proc/" + strconv.Itoa(tid) + "/cwd"
	}
	return "/proc/" + strconv.Itoa(tid) + "/fd/" + strconv.Itoa(int(fd))
}

// procFdPath returns "/proc/TID/fd/FD" NUL-terminated, in a buffer reused
// by the next call.
func (e *engine) procFdPath(tid, fd int) []byte {
	b := append(e.procPath[:0], "/proc/"...)
	b = strconv.AppendInt(b, int64(tid), 10)
	b = append(b, "/fd/"...)
	b = strconv.AppendInt(b, int64(fd), 10)
	b = append(b, 0)
	e.procPath = b
	return b
}

// guestBase returns the guest directory a relative path starts from.
func (e *engine) guestBase(t *task, dirfd int32) (string, syscall.Errno) {
	if dirfd == unix.AT_FDCWD {
		return t.fs.guestCwd, 0
	}
	if dirfd < 0 {
		return "", unix.EBADF
	}
	p := e.procFdPath(t.tid, int(dirfd))
	n, err := linux.ReadlinkBytes(p, e.buf[:pathMax])
	if err != nil {
		return "", unix.EBADF
	}
	if n == 0 || e.buf[0] != '/' {
		return "", unix.ENOTDIR
	}
	host := e.paths.bytes(e.buf[:n])
	var st unix.Stat_t
	if err := linux.StatBytes(p, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return "", unix.ENOTDIR
	}
	if g, ok := e.res.GuestPath(host); ok {
		return g, 0
	}
	return host, 0
}

// pathRequest is one path argument after it has been read.
type pathRequest struct {
	arg    int
	path   string
	dirfd  int32
	op     redirect.Op
	follow bool

	open, trunc, excl, removeDir, replace bool
	noSymlinks, noMagicLinks              bool
}

// request turns a path argument into the resolver's request: the path
// made absolute in guest space. It fails the stop when the base is bad.
func (e *engine) request(s *stop, pr pathRequest) (redirect.Request, bool) {
	t := s.t
	guest := pr.path
	if !strings.HasPrefix(guest, "/") {
		base, errno := e.guestBase(t, pr.dirfd)
		if errno != 0 {
			s.fail(errno)
			return redirect.Request{}, false
		}
		guest = e.joins.join(base, guest)
	}
	return redirect.Request{Path: guest, ArgLen: len(pr.path), Op: pr.op, Follow: pr.follow,
		Open: pr.open, Trunc: pr.trunc, Excl: pr.excl, RemoveDir: pr.removeDir, Replace: pr.replace,
		NoSymlinks: pr.noSymlinks, NoMagicLinks: pr.noMagicLinks,
		Pid: t.tgid, Tid: t.tid}, true
}

// translate resolves one path argument and records the rewrite. It returns
// the answer, or false when the stop has been failed or completed.
func (e *engine) translate(s *stop, pr pathRequest, off uintptr) (redirect.Answer, bool) {
	req, ok := e.request(s, pr)
	if !ok {
		return redirect.Answer{}, false
	}
	return e.applyAnswer(s, pr, req.Path, e.res.Resolve(req), off)
}

// applyAnswer records what one answer means for the stop: an errno, a
// syscall already done, bookkeeping for the exit stop, a rewrite.
func (e *engine) applyAnswer(s *stop, pr pathRequest, guest string, ans redirect.Answer, off uintptr) (redirect.Answer, bool) {
	t := s.t
	if ans.Errno != 0 {
		e.decided(s, guest, pr, ans)
		s.fail(ans.Errno)
		return ans, false
	}
	if ans.Skip {
		// The resolver did the whole effect (a whiteout): the syscall
		// succeeds without running.
		e.decided(s, guest, pr, ans)
		s.skip, s.ret = true, 0
		return ans, false
	}
	if errno := e.refuseHostile(t, pr, ans.Host); errno != 0 {
		e.decided(s, guest, pr, ans)
		s.fail(errno)
		return ans, false
	}
	if ans.Layer != "" && e.cfg.OnRead != nil && (pr.op == redirect.OpRead && pr.open || pr.op == redirect.OpExec) {
		e.cfg.OnRead(t.tgid, ans)
	}
	if ans.After != redirect.AfterNone && t.ncommits < len(t.commits) {
		t.commits[t.ncommits] = ans
		t.ncommits++
		s.exit = exitCommit
	}
	if ans.Host == pr.path {
		return ans, true
	}
	if pr.path[0] != '/' && pr.dirfd == unix.AT_FDCWD && len(ans.Host) == len(t.fs.hostCwd)+1+len(pr.path) &&
		strings.HasPrefix(ans.Host, t.fs.hostCwd) && ans.Host[len(t.fs.hostCwd)] == '/' && strings.HasSuffix(ans.Host, pr.path) {
		return ans, true
	}
	if len(ans.Host) >= pathMax {
		s.fail(unix.ENAMETOOLONG)
		return ans, false
	}
	e.decided(s, guest, pr, ans)
	data := e.bytes(len(ans.Host) + 1)
	copy(data, ans.Host)
	s.writes = append(s.writes, scratchWrite{off: off, data: data})
	if pr.arg >= 0 {
		s.args[pr.arg] = scratchRelative | uint64(off)
	}
	s.changed = true
	return ans, true
}

// translatePair resolves rename's or link's two paths together, so that
// the errno is the one the kernel checks first and the stage changes only
// once both paths pass.
func (e *engine) translatePair(s *stop, prs [2]pathRequest) ([2]redirect.Answer, bool) {
	var out [2]redirect.Answer
	r0, ok := e.request(s, prs[0])
	if !ok {
		return out, false
	}
	r1, ok := e.request(s, prs[1])
	if !ok {
		return out, false
	}
	var a0, a1 redirect.Answer
	if s.ent.moves() {
		a0, a1 = e.res.ResolveRename(r0, r1)
	} else {
		a0, a1 = e.res.ResolveLink(r0, r1)
	}
	if a0.Skip && a1.Skip {
		// A rename onto itself: nothing to do, success.
		s.skip, s.ret = true, 0
		return out, false
	}
	if out[0], ok = e.applyAnswer(s, prs[0], r0.Path, a0, slotPath0); !ok {
		return out, false
	}
	out[1], ok = e.applyAnswer(s, prs[1], r1.Path, a1, slotPath1)
	return out, ok
}

func (e *engine) decided(s *stop, guest string, pr pathRequest, ans redirect.Answer) {
	if e.cfg.OnDecision == nil {
		return
	}
	name := ""
	if s.ent != nil {
		name = s.ent.Name
	}
	e.cfg.OnDecision(Decision{Pid: s.t.tgid, Syscall: name, Request: redirect.Request{Path: guest, Op: pr.op, Follow: pr.follow}, Answer: ans})
}

// openRequest fills in what the open flags say about a path.
func openRequest(pr *pathRequest, flags uint64) {
	pr.op, pr.follow = openOp(flags)
	pr.open = true
	pr.trunc = flags&unix.O_TRUNC != 0
	pr.excl = flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL
}

// openOp classifies an open by its flags.
func openOp(flags uint64) (redirect.Op, bool) {
	op := redirect.OpRead
	if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_TRUNC != 0 {
		op = redirect.OpWrite
	}
	if flags&unix.O_CREAT != 0 || flags&unix.O_TMPFILE == unix.O_TMPFILE {
		op = redirect.OpCreate
	}
	follow := flags&unix.O_NOFOLLOW == 0 && flags&(unix.O_CREAT|unix.O_EXCL) != unix.O_CREAT|unix.O_EXCL
	return op, follow
}

// translatePaths handles a table-described path syscall.
func (e *engine) translatePaths(s *stop) {
	ent := s.ent
	var flags uint64
	if ent.FlagsArg >= 0 {
		flags = s.args[ent.FlagsArg]
	}
	var prs [2]pathRequest
	var idx [2]int // which of ent.Paths each request is
	n := 0
	for i, pa := range ent.Paths {
		ptr := s.args[pa.Arg]
		if ptr == 0 && pa.NullIsFd && len(ent.Paths) == 1 {
			// futimens: the change goes through the fd, which may be a
			// read-only one of a lower file (hostile.go).
			e.emptyPathWrite(s, pa)
			if s.skip {
				return
			}
			continue
		}
		if ptr == 0 || s.t.mm.contains(ptr) {
			// NULL means "the fd itself" (utimensat) or EFAULT from the
			// kernel; a pointer into the scratch area is a restarted
			// syscall vroot already translated.
			continue
		}
		p, errno := e.readPath(s.t, ptr)
		if errno != 0 {
			s.fail(errno)
			return
		}
		if p == "" {
			// An empty path names no file: the kernel either fails it
			// with ENOENT or acts on the dirfd (AT_EMPTY_PATH,
			// readlinkat(fd, "")), which was opened through vroot, but
			// maybe read-only on a lower file (hostile.go).
			if pa.Op == redirect.OpWrite && pa.Dirfd >= 0 && pa.EmptyPathBit != 0 && flags&uint64(pa.EmptyPathBit) != 0 && len(ent.Paths) == 1 {
				e.emptyPathWrite(s, pa)
				if s.skip {
					return
				}
			}
			continue
		}
		pr := pathRequest{arg: int(pa.Arg), path: p, dirfd: unix.AT_FDCWD, op: pa.Op}
		if pa.Dirfd >= 0 {
			pr.dirfd = int32(s.args[pa.Dirfd])
		}
		switch pa.Follow {
		case FollowAlways:
			pr.follow = true
		case FollowNever:
		case FollowUnlessFlag:
			pr.follow = flags&uint64(pa.Bit) == 0
		case FollowIfFlag:
			pr.follow = flags&uint64(pa.Bit) != 0
		case FollowOpen:
			openRequest(&pr, flags)
		}
		switch {
		case ent.Name == "creat":
			openRequest(&pr, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC)
		case pa.Op == redirect.OpCreate && ent.moves():
			if flags&unix.RENAME_NOREPLACE != 0 {
				pr.excl = true
			} else {
				pr.replace = true
			}
		case pa.Op == redirect.OpCreate:
			// mkdir, mknod, symlink, link: an existing name is EEXIST.
			pr.excl = true
		case pa.Op == redirect.OpDelete:
			pr.removeDir = ent.Name == "rmdir" || (ent.Name == "unlinkat" && flags&unix.AT_REMOVEDIR != 0)
		}
		prs[n], idx[n] = pr, i
		n++
	}
	var answers [2]redirect.Answer
	pair := n == 2 && (ent.moves() || ent.Name == "link" || ent.Name == "linkat")
	if pair && ent.moves() && flags&(unix.RENAME_EXCHANGE|unix.RENAME_WHITEOUT) != 0 {
		// The overlay cannot exchange or whiteout across layers: refuse
		// under redirect rules, as overlayfs refuses what it cannot do.
		pair = false
	}
	if pair {
		var ok bool
		if answers, ok = e.translatePair(s, prs); !ok {
			return
		}
	} else {
		for k := 0; k < n; k++ {
			off := uintptr(slotPath0)
			if k > 0 {
				off = slotPath1
			}
			ans, ok := e.translate(s, prs[k], off)
			if !ok {
				return
			}
			answers[k] = ans
		}
		if ent.moves() && flags&(unix.RENAME_EXCHANGE|unix.RENAME_WHITEOUT) != 0 {
			for k := 0; k < n; k++ {
				if answers[k].Rule != nil && answers[k].Rule.Action == filemap.Redirect {
					s.writes, s.changed = nil, false
					s.fail(unix.EINVAL)
					return
				}
			}
		}
	}
	var guests [2]string
	for k := 0; k < n; k++ {
		pa, ans := ent.Paths[idx[k]], answers[k]
		guests[k] = ans.Guest
		if idx[k] < len(s.hosts) {
			s.hosts[idx[k]], s.follows[idx[k]] = ans.Host, prs[k].follow
		}
		switch pa.Op {
		case redirect.OpChdir:
			if ent.Exit {
				s.exit = exitChdir
				s.t.exitGuest[0] = ans.Guest
				s.t.exitHost = ans.Host
			}
		case redirect.OpDelete, redirect.OpMove:
			if s.exit == exitNone {
				s.exit = exitInvalidate
			}
		}
		if ent.Exit && pa.Follow == FollowNever && pa.Op == redirect.OpRead && strings.HasPrefix(ans.Host, "/proc/") && int(pa.Arg)+2 < 6 {
			// readlink of a /proc magic link returns a host path.
			s.exit = exitReadlink
			s.t.exitBuf = s.args[pa.Arg+1]
			s.t.exitSize = s.args[pa.Arg+2]
		}
	}
	if s.exit == exitInvalidate {
		s.t.exitGuest = guests
	}
}
