package tracer

import (
	"bytes"
	"encoding/binary"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
	"github.com/vroot-dev/vroot/redirect"
)

// specialHandlers handle the KindSpecial rows of the table, by name so that
// one handler serves every architecture.
var specialHandlers = map[string]func(e *engine, s *stop){
	"getcwd":       (*engine).sysGetcwd,
	"fchdir":       (*engine).sysFchdir,
	"openat2":      (*engine).sysOpenat2,
	"execveat":     (*engine).sysExecveat,
	"bind":         (*engine).sysBind,
	"connect":      (*engine).sysConnect,
	"sendto":       (*engine).sysSendto,
	"sendmsg":      (*engine).sysSendmsg,
	"sendmmsg":     (*engine).sysSendmmsg,
	"clone":        (*engine).sysClone,
	"clone3":       (*engine).sysClone3,
	"unshare":      (*engine).sysUnshare,
	"seccomp":      (*engine).sysSeccomp,
	"prctl":        (*engine).sysPrctl,
	"pidfd_getfd":  func(_ *engine, s *stop) { s.fail(unix.EPERM) },
	"fchmod":       (*engine).sysFdMeta,
	"fchown":       (*engine).sysFdMeta,
	"fsetxattr":    (*engine).sysFdMeta,
	"fremovexattr": (*engine).sysFdMeta,
	// perf_event_open names a file only for uprobe events, which need
	// CAP_PERFMON or a permissive perf_event_paranoid; they attach a probe
	// and write nothing, so the call runs as is.
	"perf_event_open": func(*engine, *stop) {},
}

func (e *engine) special(s *stop) {
	h := specialHandlers[s.ent.Name]
	if h == nil {
		// Fail closed: a traced syscall without a handler never runs.
		s.fail(unix.ENOSYS)
		return
	}
	h(e, s)
}

// pathArg reads the path in argument i of a special syscall. It returns
// false when there is nothing to translate (NULL, empty, or a pointer into
// the scratch area: a restarted syscall already translated) or when the
// stop has been failed.
func (e *engine) pathArg(s *stop, i int) (string, bool) {
	ptr := s.args[i]
	if ptr == 0 || s.t.mm.contains(ptr) {
		return "", false
	}
	p, errno := e.readPath(s.t, ptr)
	if errno != 0 {
		s.fail(errno)
		return "", false
	}
	return p, p != ""
}

// sysGetcwd answers from the tracked guest cwd without running the call.
func (e *engine) sysGetcwd(s *stop) {
	g := s.t.fs.guestCwd
	if uint64(len(g)+1) > s.args[1] {
		s.fail(unix.ERANGE)
		return
	}
	b := e.bytes(len(g) + 1)
	copy(b, g)
	if err := linux.WriteMem(s.t.tid, uintptr(s.args[0]), b); err != nil {
		s.fail(unix.EFAULT)
		return
	}
	s.skip = true
	s.ret = int64(len(b))
}

func (e *engine) sysFchdir(s *stop) { s.exit = exitFchdir }

// open_how, as openat2 reads it.
const (
	openHowSize0      = 24
	resolveNoXdev     = 0x01
	resolveNoMagic    = 0x02
	resolveNoSymlinks = 0x04
	resolveBeneath    = 0x08
	resolveInRoot     = 0x10
)

func (e *engine) sysOpenat2(s *stop) {
	size := s.args[3]
	if size < openHowSize0 {
		s.fail(unix.EINVAL)
		return
	}
	if size > 4096 {
		s.fail(unix.E2BIG)
		return
	}
	var how [openHowSize0]byte
	if n, err := linux.ReadMem(s.t.tid, uintptr(s.args[2]), how[:]); err != nil || n != len(how) {
		s.fail(unix.EFAULT)
		return
	}
	flags := binary.LittleEndian.Uint64(how[0:])
	resolve := binary.LittleEndian.Uint64(how[16:])
	p, ok := e.pathArg(s, 1)
	if !ok {
		return
	}
	pr := pathRequest{arg: 1, path: p, dirfd: int32(s.args[0])}
	openRequest(&pr, flags)
	pr.noSymlinks = resolve&resolveNoSymlinks != 0
	pr.noMagicLinks = resolve&resolveNoMagic != 0
	confined := resolve&(resolveBeneath|resolveInRoot) != 0
	var base string
	if confined {
		var errno syscall.Errno
		base, errno = e.guestBase(s.t, pr.dirfd)
		if errno != 0 {
			s.fail(errno)
			return
		}
		if strings.HasPrefix(p, "/") {
			if resolve&resolveBeneath != 0 {
				s.fail(unix.EXDEV)
				return
			}
			p = strings.TrimLeft(p, "/")
			if p == "" {
				p = "."
			}
		}
		pr.path = p
	}
	ans, ok := e.translate(s, pr, slotPath0)
	if !ok {
		return
	}
	if confined && ans.Guest != base && !strings.HasPrefix(ans.Guest, strings.TrimSuffix(base, "/")+"/") {
		s.writes, s.changed = nil, false
		s.fail(unix.EXDEV)
		return
	}
	// The kernel gets a host path vroot already resolved and confined in
	// guest space: drop the flags it would apply to the host's own
	// directories and links instead (RESOLVE_NO_XDEV stays: a mount
	// crossing is the host's either way).
	guestOnly := uint64(resolveBeneath | resolveInRoot | resolveNoSymlinks | resolveNoMagic)
	if s.changed && resolve&guestOnly != 0 {
		binary.LittleEndian.PutUint64(how[16:], resolve&^guestOnly)
		h := e.bytes(openHowSize0)
		copy(h, how[:])
		s.writes = append(s.writes, scratchWrite{off: slotStruct, data: h})
		s.args[2] = scratchRelative | slotStruct
		s.args[3] = openHowSize0
	}
}

func (e *engine) sysExecveat(s *stop) {
	flags := s.args[4]
	// An empty path is fexecve (AT_EMPTY_PATH): the fd was opened through
	// vroot; without the flag the kernel says ENOENT.
	p, ok := e.pathArg(s, 1)
	if !ok {
		return
	}
	e.translate(s, pathRequest{arg: 1, path: p, dirfd: int32(s.args[0]), op: redirect.OpExec, follow: flags&unix.AT_SYMLINK_NOFOLLOW == 0}, slotPath0)
}

// sockaddr_un: a 2-byte family then up to 108 bytes of path.
const sunPathMax = 108

// unixSockaddr translates the AF_UNIX path of a sockaddr argument (index
// addrArg, length lenArg) into a scratch copy.
func (e *engine) unixSockaddr(s *stop, addr, alen uint64, op redirect.Op, follow bool) (uint64, uint64, bool) {
	if addr == 0 || alen <= 2 || s.t.mm.contains(addr) {
		return 0, 0, false
	}
	if alen > 2+sunPathMax {
		alen = 2 + sunPathMax
	}
	var sa [2 + sunPathMax]byte
	n, err := linux.ReadMem(s.t.tid, uintptr(addr), sa[:alen])
	if err != nil || uint64(n) != alen {
		return 0, 0, false // the kernel reports EFAULT itself
	}
	if binary.LittleEndian.Uint16(sa[:]) != unix.AF_UNIX || sa[2] == 0 {
		return 0, 0, false // not a path (inet, or an abstract socket)
	}
	path := sa[2:alen]
	if i := bytes.IndexByte(path, 0); i >= 0 {
		path = path[:i]
	}
	pr := pathRequest{arg: -1, path: e.paths.bytes(path), dirfd: unix.AT_FDCWD, op: op, follow: follow}
	sub := stop{t: s.t, ent: s.ent}
	ans, ok := e.translate(&sub, pr, 0)
	if !ok {
		s.fail(unix.Errno(-sub.ret))
		return 0, 0, false
	}
	if !sub.changed {
		return 0, 0, false
	}
	if len(ans.Host) >= sunPathMax {
		s.fail(unix.ENAMETOOLONG)
		return 0, 0, false
	}
	out := e.bytes(2 + len(ans.Host) + 1)
	binary.LittleEndian.PutUint16(out, unix.AF_UNIX)
	copy(out[2:], ans.Host)
	s.writes = append(s.writes, scratchWrite{off: slotStruct, data: out})
	s.changed = true
	return scratchRelative | slotStruct, uint64(len(out)), true
}

// netArgs applies the network policy to the sockaddr in arguments ai
// (pointer) and li (length); it reports whether the address was inet (then
// there is no AF_UNIX path to translate).
func (e *engine) netArgs(s *stop, op netOp, ai, li int) bool {
	inet, errno, a, l, placed := e.netCheck(s, op, s.args[ai], s.args[li], true)
	switch {
	case errno != 0:
		s.fail(errno)
	case placed:
		s.args[ai], s.args[li] = a, l
	}
	return inet
}

func (e *engine) sysBind(s *stop) {
	if e.netArgs(s, netBind, 1, 2) {
		return
	}
	if a, l, ok := e.unixSockaddr(s, s.args[1], s.args[2], redirect.OpCreate, false); ok {
		s.args[1], s.args[2] = a, l
	}
}

func (e *engine) sysConnect(s *stop) {
	if e.netArgs(s, netConnect, 1, 2) {
		return
	}
	if a, l, ok := e.unixSockaddr(s, s.args[1], s.args[2], redirect.OpRead, true); ok {
		s.args[1], s.args[2] = a, l
	}
}

func (e *engine) sysSendto(s *stop) {
	if e.netArgs(s, netSend, 4, 5) {
		return
	}
	if a, l, ok := e.unixSockaddr(s, s.args[4], s.args[5], redirect.OpRead, true); ok {
		s.args[4], s.args[5] = a, l
	}
}

// struct msghdr on 64-bit: name ptr, namelen (u32 + pad), iov, iovlen,
// control, controllen, flags: 56 bytes.
const msghdrSize = 56

func (e *engine) sysSendmsg(s *stop) {
	if s.args[1] == 0 || s.t.mm.contains(s.args[1]) {
		return
	}
	var mh [msghdrSize]byte
	if n, err := linux.ReadMem(s.t.tid, uintptr(s.args[1]), mh[:]); err != nil || n != msghdrSize {
		return
	}
	name := binary.LittleEndian.Uint64(mh[0:])
	nlen := uint64(binary.LittleEndian.Uint32(mh[8:]))
	inet, errno, a, l, ok := e.netCheck(s, netSend, name, nlen, true)
	if errno != 0 {
		s.fail(errno)
		return
	}
	if !inet {
		a, l, ok = e.unixSockaddr(s, name, nlen, redirect.OpRead, true)
	}
	if !ok {
		return
	}
	// The msghdr copy lives after the sockaddr in the scratch slot; its
	// name pointer is patched once the slot's address is known.
	const mhOff = slotStruct + 128
	binary.LittleEndian.PutUint64(mh[0:], a&^scratchRelative)
	binary.LittleEndian.PutUint32(mh[8:], uint32(l))
	data := e.bytes(msghdrSize)
	copy(data, mh[:])
	s.writes = append(s.writes, scratchWrite{off: mhOff, data: data, reloc0: true})
	s.args[1] = scratchRelative | mhOff
}

// sysSendmmsg refuses a batch that names an AF_UNIX path: the batch would
// need every header copied; libc callers use sendmsg for such sockets.
// Inet addresses are checked in place (not copied): a batch whose message
// i is refused is cut to its first i messages, so that the kernel returns
// i as it does when message i fails, and the build's next call, starting
// at the refused message, gets the errno.
func (e *engine) sysSendmmsg(s *stop) {
	vec, vlen := s.args[1], s.args[2]
	if vlen > 1024 {
		vlen = 1024
	}
	const mmsgSize = msghdrSize + 8
	for i := uint64(0); i < vlen; i++ {
		var mh [msghdrSize]byte
		if n, err := linux.ReadMem(s.t.tid, uintptr(vec+i*mmsgSize), mh[:]); err != nil || n != msghdrSize {
			return
		}
		name := binary.LittleEndian.Uint64(mh[0:])
		if name == 0 {
			continue
		}
		inet, errno, _, _, _ := e.netCheck(s, netSend, name, uint64(binary.LittleEndian.Uint32(mh[8:])), false)
		if errno != 0 {
			if i == 0 {
				s.fail(errno)
			} else {
				s.args[2] = i
				s.changed = true
			}
			return
		}
		if inet {
			continue
		}
		var fam [3]byte
		if n, err := linux.ReadMem(s.t.tid, uintptr(name), fam[:]); err == nil && n == 3 &&
			binary.LittleEndian.Uint16(fam[:]) == unix.AF_UNIX && fam[2] != 0 {
			s.fail(unix.EOPNOTSUPP)
			return
		}
	}
}

// Namespaces that would let the build mount, chroot or remap ids are
// refused: they could make the guest view meaningless.
const refusedNamespaces = unix.CLONE_NEWUSER | unix.CLONE_NEWNS

func (e *engine) sysClone(s *stop) {
	flags := s.args[0]
	if flags&refusedNamespaces != 0 {
		s.fail(unix.EPERM)
		return
	}
	if flags&unix.CLONE_UNTRACED != 0 {
		// The child must stay traced.
		s.args[0] = flags &^ unix.CLONE_UNTRACED
		s.changed = true
	}
	s.t.cloneFlags = flags
	s.t.cloneValid = true
}

// struct clone_args starts with the u64 flags.
const cloneArgsMax = 4096

func (e *engine) sysClone3(s *stop) {
	size := s.args[1]
	if size < 64 || size > cloneArgsMax || s.t.mm.contains(s.args[0]) {
		return // the kernel refuses it (EINVAL/E2BIG) itself
	}
	buf := e.bytes(int(size))
	if n, err := linux.ReadMem(s.t.tid, uintptr(s.args[0]), buf); err != nil || uint64(n) != size {
		s.fail(unix.EFAULT)
		return
	}
	flags := binary.LittleEndian.Uint64(buf)
	if flags&refusedNamespaces != 0 {
		s.fail(unix.EPERM)
		return
	}
	if flags&unix.CLONE_UNTRACED != 0 {
		binary.LittleEndian.PutUint64(buf, flags&^unix.CLONE_UNTRACED)
		s.writes = append(s.writes, scratchWrite{off: slotStruct, data: buf})
		s.args[0] = scratchRelative | slotStruct
		s.changed = true
	}
	s.t.cloneFlags = flags
	s.t.cloneValid = true
}

func (e *engine) sysUnshare(s *stop) {
	flags := s.args[0]
	if flags&refusedNamespaces != 0 {
		s.fail(unix.EPERM)
		return
	}
	if flags&unix.CLONE_FS != 0 {
		fs := *s.t.fs
		s.t.fs = &fs
	}
}

const (
	seccompSetModeFilter   = 1
	seccompFlagNewListener = 1 << 3
)

// sysSeccomp refuses a user-notification listener: its filter would
// outrank vroot's RET_TRACE and could let path syscalls through
// untranslated.
func (e *engine) sysSeccomp(s *stop) {
	if s.args[0] == seccompSetModeFilter && s.args[1]&seccompFlagNewListener != 0 {
		s.fail(unix.EPERM)
	}
}

// sysPrctl keeps every tracee dumpable: a build that asks to be made
// non-dumpable is told it succeeded. Non-dumpable, its /proc/PID/fd,
// /proc/PID/cwd and memory would be closed to an unprivileged vroot, which
// could then no longer resolve its dirfds. A build is contained by vroot;
// it does not need protecting from its own tracer.
func (e *engine) sysPrctl(s *stop) {
	if s.args[0] == unix.PR_SET_DUMPABLE && s.args[1] == 0 {
		s.skip, s.ret = true, 0
	}
}
