package tracer

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
	"github.com/vroot-dev/vroot/redirect"
)

// --fakeroot: the build believes it runs as root. What it asks for and an
// unprivileged user cannot do (owners, setuid/setgid/sticky bits, device
// nodes, security.* and trusted.* xattrs) is recorded in the stage's
// metadata store instead of failing, and the stat family reports it.
//
//   - getuid & co and the set*id family are answered by the filter itself
//     (SECCOMP_RET_ERRNO with data 0: the call returns 0 and never runs, no
//     stop); getresuid/getresgid write their three zeros at the seccomp
//     stop and skip the call.
//   - chown & co on a staged file set the record's owner (and drop the
//     setuid bit, the setgid bit of a group-executable file and
//     security.capability, as the kernel does for root), then succeed
//     without running. chmod & co on a staged file record the full mode,
//     and run with the permission bits only, forced to u+rw (u+rwx for a
//     directory) so that the build keeps access to what it made and no
//     real setuid file appears. mknod of a character or block device
//     creates an empty regular file and records the type and rdev at the
//     exit stop. setxattr of a security.* or trusted.* name records it;
//     getxattr of a recorded name answers from the record.
//   - Outside the stage (granted paths) there is nothing to record in:
//     chown and those xattrs pretend success (after checking the file
//     exists), chmod runs as is, mknod makes the same placeholder.
//   - stat, lstat, newfstatat, statx and fstat take an exit stop: the
//     result struct carries st_dev and st_ino; when st_dev is the stage's
//     device, the inode's record (if any) replaces owner, mode and rdev,
//     and a staged file without a record shows 0:0. Whether a file without
//     a record is staged is known from its host path: the translated path,
//     or for fd-based calls (fstat, AT_EMPTY_PATH, a NULL path) the link
//     /proc/TID/fd/N read at the exit stop.
//   - unlink, rmdir and rename over a name drop the record of the inode
//     whose last link goes away, at the exit stop, when the call succeeded.

// FakerootStore is where --fakeroot records what it pretends. *redirect.Stage
// implements it.
type FakerootStore interface {
	// Root is the directory of the staged files; Dev its device.
	Root() string
	Dev() uint64
	AttrIno(ino uint64) (redirect.Attr, bool)
	// SetAttr and DropAttr return once the change is durable.
	SetAttr(ino uint64, a redirect.Attr) error
	DropAttr(ino uint64) error
}

// initFakeroot is the init marker's value that selects the fakeroot filter.
const initFakeroot = "fakeroot"

// xattrSizeMax is XATTR_SIZE_MAX: the largest value the kernel takes.
const xattrSizeMax = 65536

type fakeOp uint8

const (
	fakeNone  fakeOp = iota
	fakeStat         // rewrite a struct stat
	fakeStatx        // rewrite a struct statx
	fakeMknod        // record the device a placeholder stands for
	fakeDrop         // drop the record of an inode that lost its last link
)

// fakeExit is what the exit stop of one syscall does for --fakeroot.
type fakeExit struct {
	op   fakeOp
	buf  uint64 // the stat result
	host string // the host path, or "" for an fd
	fd   int32  // with host == "": the fd (AT_FDCWD: the cwd)
	mode uint32 // fakeMknod: the type
	rdev uint64 // fakeMknod
	ino  uint64 // fakeDrop
}

// fakerootSucceed are answered 0 by the filter; fakerootTraced are traced
// (they carry no path and are in noPath otherwise).
var (
	fakerootSucceed = []int{
		unix.SYS_GETUID, unix.SYS_GETEUID, unix.SYS_GETGID, unix.SYS_GETEGID,
		unix.SYS_SETUID, unix.SYS_SETGID, unix.SYS_SETREUID, unix.SYS_SETREGID,
		unix.SYS_SETRESUID, unix.SYS_SETRESGID, unix.SYS_SETFSUID, unix.SYS_SETFSGID,
		unix.SYS_SETGROUPS, unix.SYS_CAPSET,
	}
	fakerootTraced = []int{
		unix.SYS_GETRESUID, unix.SYS_GETRESGID, unix.SYS_FSTAT, unix.SYS_FGETXATTR,
	}
)

// fakerootUngated are the path rows traced even with a NULL path (the
// fd-based form of 6.11+), since their result must be rewritten.
var fakerootUngated = map[string]bool{"newfstatat": true, "statx": true, "fchownat": true, "fchmodat2": true}

// fakerootFilter is the table and allow list the filter is compiled from
// under --fakeroot. Only the filter reads it: the engine still looks rows
// up in the table, and handles the numbers it traces in addition by
// number (fakeNoPath).
func fakerootFilter() ([]Sysent, []int) {
	drop := make(map[int]bool)
	var tbl []Sysent
	for _, nr := range fakerootSucceed {
		drop[nr] = true
		tbl = append(tbl, Sysent{Nr: nr, Name: "fakeroot-" + strconv.Itoa(nr), Kind: KindSucceed, FlagsArg: noFlags})
	}
	for _, nr := range fakerootTraced {
		drop[nr] = true
		tbl = append(tbl, Sysent{Nr: nr, Name: "fakeroot-" + strconv.Itoa(nr), Kind: KindSpecial, FlagsArg: noFlags})
	}
	for _, row := range table {
		if fakerootUngated[row.Name] {
			row = Sysent{Nr: row.Nr, Name: row.Name, Kind: KindSpecial, FlagsArg: noFlags}
		}
		tbl = append(tbl, row)
	}
	var allow []int
	for _, nr := range noPath {
		if !drop[nr] {
			allow = append(allow, nr)
		}
	}
	return tbl, allow
}

// fakeTarget names the file a call acts on: a host path, or an fd.
type fakeTarget struct {
	host   string
	fd     int32
	follow bool
}

// pathTarget is path argument i of a KindPath row: its translated host
// path; the dirfd when the path is NULL or empty with AT_EMPTY_PATH (the
// call acts on the fd); the path as rewritten when the pointer is in the
// scratch area (a restarted call). ok is false when the call names no
// file the kernel would act on (it then fails by itself).
func (e *engine) pathTarget(s *stop, i int) (fakeTarget, bool) {
	if s.hosts[i] != "" {
		return fakeTarget{host: s.hosts[i], follow: s.follows[i]}, true
	}
	pa := s.ent.Paths[i]
	ptr := s.args[pa.Arg]
	if ptr != 0 && s.t.mm.contains(ptr) {
		p, errno := e.readPath(s.t, ptr)
		if errno != 0 || p == "" {
			return fakeTarget{}, false
		}
		follow := pa.Follow == FollowAlways
		if pa.Follow == FollowUnlessFlag && s.ent.FlagsArg >= 0 {
			follow = s.args[s.ent.FlagsArg]&uint64(pa.Bit) == 0
		}
		return fakeTarget{host: p, follow: follow}, true
	}
	if pa.EmptyPathBit == 0 || s.ent.FlagsArg < 0 || s.args[s.ent.FlagsArg]&uint64(pa.EmptyPathBit) == 0 || pa.Dirfd < 0 {
		return fakeTarget{}, false
	}
	return fakeTarget{fd: int32(s.args[pa.Dirfd]), follow: true}, true
}

// stat stats the target as the tracee would see it, and returns its host
// path.
func (e *engine) fakeStat(t *task, tg fakeTarget) (unix.Stat_t, string, syscall.Errno) {
	var st unix.Stat_t
	host := tg.host
	var err error
	switch {
	case host == "":
		p := procFd(t.tid, tg.fd)
		if err = unix.Stat(p, &st); err == nil {
			host, err = readlinkString(p)
		}
	case tg.follow:
		if err = unix.Stat(host, &st); err == nil && strings.HasPrefix(host, "/proc/") {
			// A magic link (/proc/self/fd/N): the file it leads to.
			if p, lerr := readlinkString(host); lerr == nil && strings.HasPrefix(p, "/") {
				host = p
			}
		}
	default:
		err = unix.Lstat(host, &st)
	}
	if err != nil {
		if errno, ok := err.(syscall.Errno); ok {
			return st, "", errno
		}
		return st, "", unix.EIO
	}
	return st, host, 0
}

// staged reports whether host is a file of the stage.
func (e *engine) staged(host string) bool {
	root := e.fake.Root()
	return strings.HasPrefix(host, root) && (len(host) == len(root) || host[len(root)] == '/')
}

// attrOf is the record of st's inode, or the default: 0:0, its own mode.
func (e *engine) attrOf(st *unix.Stat_t) redirect.Attr {
	if a, ok := e.fake.AttrIno(st.Ino); ok {
		return a
	}
	return redirect.Attr{Mode: st.Mode, Rdev: st.Rdev}
}

// fakeSucceed makes the call return 0 without running: what the path
// answers prepared is committed as done.
func (e *engine) fakeSucceed(s *stop) {
	t := s.t
	for i := 0; i < t.ncommits; i++ {
		e.res.Commit(t.commits[i], true)
		t.commits[i] = redirect.Answer{}
	}
	t.ncommits = 0
	s.writes, s.changed = nil, false
	s.skip, s.ret = true, 0
}

func (e *engine) fakeSet(s *stop, ino uint64, a redirect.Attr) bool {
	if err := e.fake.SetAttr(ino, a); err != nil {
		e.log.Error("fakeroot: recording", "error", err)
		s.writes, s.changed = nil, false
		s.fail(unix.EIO)
		return false
	}
	return true
}

func (s *stop) wantExit(fk fakeExit) {
	s.t.fk = fk
	if s.exit == exitNone {
		s.exit = exitFake
	}
}

// fakePath handles a path syscall under --fakeroot, after its paths were
// translated.
func (e *engine) fakePath(s *stop) {
	a := &s.args
	name := s.ent.Name
	switch name {
	case "unlink", "rmdir", "unlinkat":
		e.fakeDropPrepare(s, s.hosts[0], "")
		return
	case "rename", "renameat", "renameat2":
		if s.ent.FlagsArg < 0 || a[s.ent.FlagsArg]&unix.RENAME_EXCHANGE == 0 {
			e.fakeDropPrepare(s, s.hosts[1], s.hosts[0])
		}
		return
	case "mknod":
		e.fakeMknod(s, 1, 2)
		return
	case "mknodat":
		e.fakeMknod(s, 2, 3)
		return
	}
	if len(s.ent.Paths) == 0 {
		return
	}
	tg, ok := e.pathTarget(s, 0)
	if !ok {
		return
	}
	switch name {
	case "chown", "lchown":
		e.fakeChown(s, tg, a[1], a[2])
	case "fchownat":
		e.fakeChown(s, tg, a[2], a[3])
	case "chmod":
		e.fakeChmod(s, tg, 1)
	case "fchmodat", "fchmodat2":
		e.fakeChmod(s, tg, 2)
	case "setxattr", "lsetxattr":
		e.fakeSetxattr(s, tg, 1)
	case "getxattr", "lgetxattr":
		e.fakeGetxattr(s, tg, 1)
	case "removexattr", "lremovexattr":
		e.fakeRemovexattr(s, tg, 1)
	case "stat", "lstat":
		s.wantExit(fakeStatExit(tg, fakeStat, a[1]))
	case "newfstatat":
		s.wantExit(fakeStatExit(tg, fakeStat, a[2]))
	case "statx":
		s.wantExit(fakeStatExit(tg, fakeStatx, a[4]))
	}
}

// fakeNoPath handles the numbers only --fakeroot traces.
func (e *engine) fakeNoPath(s *stop, nr int) {
	a := &s.args
	fd := fakeTarget{fd: int32(a[0]), follow: true}
	switch nr {
	case unix.SYS_GETRESUID, unix.SYS_GETRESGID:
		var zero [4]byte
		for i := 0; i < 3; i++ {
			if linux.WriteMem(s.t.tid, uintptr(a[i]), zero[:]) != nil {
				s.fail(unix.EFAULT)
				return
			}
		}
		s.skip, s.ret = true, 0
	case unix.SYS_FSTAT:
		s.wantExit(fakeStatExit(fd, fakeStat, a[1]))
	case unix.SYS_FGETXATTR:
		e.fakeGetxattr(s, fd, 1)
	}
}

// fakeFdMeta is --fakeroot's part of fchown, fchmod, fsetxattr and
// fremovexattr, which the main table traces (sysFdMeta): when sysFdMeta
// turned the call into the path-based one on a staged copy of a lower
// file, the record is the copy's and the arguments are the new call's;
// otherwise it is the fd's file's.
func (e *engine) fakeFdMeta(s *stop) {
	tg := fakeTarget{fd: int32(s.args[0]), follow: true}
	modeArg := 1
	uid, gid := s.args[1], s.args[2]
	if s.setNr {
		tg = fakeTarget{host: s.fdHost}
		modeArg = 2                     // fchmodat(AT_FDCWD, path, mode)
		uid, gid = s.args[2], s.args[3] // fchownat(AT_FDCWD, path, uid, gid, flags)
	}
	switch s.ent.Name {
	case "fchown":
		e.fakeChown(s, tg, uid, gid)
	case "fchmod":
		e.fakeChmod(s, tg, modeArg)
	case "fsetxattr":
		e.fakeSetxattr(s, tg, 1) // lsetxattr keeps fsetxattr's argument places
	case "fremovexattr":
		e.fakeRemovexattr(s, tg, 1)
	}
}

func fakeStatExit(tg fakeTarget, op fakeOp, buf uint64) fakeExit {
	return fakeExit{op: op, buf: buf, host: tg.host, fd: tg.fd}
}

func (e *engine) fakeChown(s *stop, tg fakeTarget, uidArg, gidArg uint64) {
	st, host, errno := e.fakeStat(s.t, tg)
	if errno != 0 {
		s.fail(errno)
		return
	}
	if e.staged(host) {
		a := e.attrOf(&st)
		if uid := uint32(uidArg); uid != ^uint32(0) {
			a.Uid = uid
		}
		if gid := uint32(gidArg); gid != ^uint32(0) {
			a.Gid = gid
		}
		if a.Mode&unix.S_IFMT != unix.S_IFDIR {
			// What the kernel does on chown, for root too.
			a.Mode &^= unix.S_ISUID
			if a.Mode&unix.S_IXGRP != 0 {
				a.Mode &^= unix.S_ISGID
			}
			if _, ok := a.Xattrs["security.capability"]; ok {
				a.Xattrs = copyXattrs(a.Xattrs)
				delete(a.Xattrs, "security.capability")
			}
		}
		if !e.fakeSet(s, st.Ino, a) {
			return
		}
	}
	e.fakeSucceed(s)
}

func (e *engine) fakeChmod(s *stop, tg fakeTarget, modeArg int) {
	st, host, errno := e.fakeStat(s.t, tg)
	if errno != 0 || !e.staged(host) || st.Mode&unix.S_IFMT == unix.S_IFLNK {
		// The kernel gives the errno, changes a granted file for real, or
		// refuses a symlink.
		return
	}
	mode := uint32(s.args[modeArg]) & 0o7777
	a := e.attrOf(&st)
	a.Mode = a.Mode&unix.S_IFMT | mode
	if !e.fakeSet(s, st.Ino, a) {
		return
	}
	real := mode&0o777 | 0o600
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		real |= 0o700
	}
	if uint64(real) != s.args[modeArg] {
		s.args[modeArg] = uint64(real)
		s.changed = true
	}
}

func (e *engine) fakeMknod(s *stop, modeArg, devArg int) {
	mode := uint32(s.args[modeArg])
	typ := mode & unix.S_IFMT
	if typ != unix.S_IFCHR && typ != unix.S_IFBLK || s.hosts[0] == "" {
		return // a fifo, socket or regular file: the user may make it
	}
	s.args[modeArg] = uint64(unix.S_IFREG | mode&0o7777)
	s.changed = true
	if e.staged(s.hosts[0]) {
		s.wantExit(fakeExit{op: fakeMknod, host: s.hosts[0], mode: typ, rdev: uint64(uint32(s.args[devArg]))})
	}
}

// fakeXattrName reads an xattr name and says whether --fakeroot keeps it:
// the namespaces an unprivileged user cannot write.
func (e *engine) fakeXattrName(s *stop, arg int) (string, bool) {
	name, errno := e.readPath(s.t, s.args[arg])
	if errno != 0 {
		return "", false
	}
	return name, strings.HasPrefix(name, "security.") || strings.HasPrefix(name, "trusted.")
}

func copyXattrs(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (e *engine) fakeSetxattr(s *stop, tg fakeTarget, nameArg int) {
	name, ok := e.fakeXattrName(s, nameArg)
	if !ok {
		return
	}
	size, flags := s.args[nameArg+2], s.args[nameArg+3]
	if size > xattrSizeMax {
		s.fail(unix.E2BIG)
		return
	}
	val := make([]byte, size)
	if size > 0 {
		if n, err := linux.ReadMem(s.t.tid, uintptr(s.args[nameArg+1]), val); err != nil || n != len(val) {
			s.fail(unix.EFAULT)
			return
		}
	}
	st, host, errno := e.fakeStat(s.t, tg)
	if errno != 0 {
		s.fail(errno)
		return
	}
	if e.staged(host) {
		a := e.attrOf(&st)
		_, had := a.Xattrs[name]
		switch {
		case flags&unix.XATTR_CREATE != 0 && had:
			s.fail(unix.EEXIST)
			return
		case flags&unix.XATTR_REPLACE != 0 && !had:
			s.fail(unix.ENODATA)
			return
		}
		a.Xattrs = copyXattrs(a.Xattrs)
		a.Xattrs[name] = val
		if !e.fakeSet(s, st.Ino, a) {
			return
		}
	}
	e.fakeSucceed(s)
}

func (e *engine) fakeRemovexattr(s *stop, tg fakeTarget, nameArg int) {
	name, ok := e.fakeXattrName(s, nameArg)
	if !ok {
		return
	}
	st, host, errno := e.fakeStat(s.t, tg)
	if errno != 0 {
		s.fail(errno)
		return
	}
	a, rec := e.fake.AttrIno(st.Ino)
	if _, had := a.Xattrs[name]; !rec || !had || !e.staged(host) {
		s.fail(unix.ENODATA)
		return
	}
	a.Xattrs = copyXattrs(a.Xattrs)
	delete(a.Xattrs, name)
	if e.fakeSet(s, st.Ino, a) {
		e.fakeSucceed(s)
	}
}

func (e *engine) fakeGetxattr(s *stop, tg fakeTarget, nameArg int) {
	name, ok := e.fakeXattrName(s, nameArg)
	if !ok {
		return
	}
	st, host, errno := e.fakeStat(s.t, tg)
	if errno != 0 || !e.staged(host) {
		return
	}
	a, _ := e.fake.AttrIno(st.Ino)
	val, had := a.Xattrs[name]
	if !had {
		return // the file's own, or ENODATA from the kernel
	}
	buf, size := s.args[nameArg+1], s.args[nameArg+2]
	switch {
	case size == 0:
	case size < uint64(len(val)):
		s.fail(unix.ERANGE)
		return
	case len(val) > 0:
		if linux.WriteMem(s.t.tid, uintptr(buf), val) != nil {
			s.fail(unix.EFAULT)
			return
		}
	}
	e.fakeSucceed(s)
	s.ret = int64(len(val))
}

// fakeDropPrepare notes, before an unlink, rmdir or rename over a name,
// the inode that loses its last link with it. src is a rename's source:
// renaming a link onto another link of the same inode removes nothing.
func (e *engine) fakeDropPrepare(s *stop, host, src string) {
	if host == "" || !e.staged(host) {
		return
	}
	var st unix.Stat_t
	if unix.Lstat(host, &st) != nil {
		return
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR && st.Nlink > 1 {
		return
	}
	if _, ok := e.fake.AttrIno(st.Ino); !ok {
		return
	}
	if src != "" {
		var ss unix.Stat_t
		if unix.Lstat(src, &ss) == nil && ss.Ino == st.Ino && ss.Dev == st.Dev {
			return
		}
	}
	s.wantExit(fakeExit{op: fakeDrop, ino: st.Ino})
}

// fakeExit finishes at the exit stop what a seccomp stop prepared.
func (e *engine) fakeExit(t *task) {
	fk := t.fk
	if e.exitRet(t) < 0 {
		return
	}
	switch fk.op {
	case fakeDrop:
		if err := e.fake.DropAttr(fk.ino); err != nil {
			e.log.Error("fakeroot: dropping a record", "error", err)
		}
	case fakeMknod:
		var st unix.Stat_t
		if unix.Lstat(fk.host, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return
		}
		a := redirect.Attr{Mode: fk.mode | st.Mode&0o7777, Rdev: fk.rdev}
		if err := e.fake.SetAttr(st.Ino, a); err != nil {
			// The build must not believe in a device that is not
			// recorded: the call fails, its placeholder stays.
			e.log.Error("fakeroot: recording", "error", err)
			if getRegs(t.tid, &e.regs) == nil {
				regsSetRet(t.tid, &e.regs, -int64(unix.EIO))
			}
		}
	case fakeStat, fakeStatx:
		e.fakeFixStat(t, fk)
	}
}
