package tracer

import (
	"encoding/binary"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
)

// The layouts of the structs the stat family fills in, from x/sys's
// definitions for the arch (struct stat differs between amd64 and arm64).
const (
	statSize    = unsafe.Sizeof(unix.Stat_t{})
	statDevOff  = unsafe.Offsetof(unix.Stat_t{}.Dev)
	statInoOff  = unsafe.Offsetof(unix.Stat_t{}.Ino)
	statModeOff = unsafe.Offsetof(unix.Stat_t{}.Mode)
	statUidOff  = unsafe.Offsetof(unix.Stat_t{}.Uid)
	statGidOff  = unsafe.Offsetof(unix.Stat_t{}.Gid)
	statRdevOff = unsafe.Offsetof(unix.Stat_t{}.Rdev)

	statxSize         = unsafe.Sizeof(unix.Statx_t{})
	statxUidOff       = unsafe.Offsetof(unix.Statx_t{}.Uid)
	statxGidOff       = unsafe.Offsetof(unix.Statx_t{}.Gid)
	statxModeOff      = unsafe.Offsetof(unix.Statx_t{}.Mode)
	statxInoOff       = unsafe.Offsetof(unix.Statx_t{}.Ino)
	statxRdevMajorOff = unsafe.Offsetof(unix.Statx_t{}.Rdev_major)
	statxRdevMinorOff = unsafe.Offsetof(unix.Statx_t{}.Rdev_minor)
	statxDevMajorOff  = unsafe.Offsetof(unix.Statx_t{}.Dev_major)
	statxDevMinorOff  = unsafe.Offsetof(unix.Statx_t{}.Dev_minor)
)

// fakeFixStat rewrites the owner, mode and rdev of a stat result that
// describes a staged file (see fakeroot.go).
func (e *engine) fakeFixStat(t *task, fk fakeExit) {
	le := binary.LittleEndian
	size := statSize
	if fk.op == fakeStatx {
		size = statxSize
	}
	b := e.fbuf[:size]
	if n, err := linux.ReadMem(t.tid, uintptr(fk.buf), b); err != nil || n != len(b) {
		return
	}
	var dev, ino uint64
	if fk.op == fakeStatx {
		dev = unix.Mkdev(le.Uint32(b[statxDevMajorOff:]), le.Uint32(b[statxDevMinorOff:]))
		ino = le.Uint64(b[statxInoOff:])
	} else {
		dev, ino = le.Uint64(b[statDevOff:]), le.Uint64(b[statInoOff:])
	}
	if dev != e.fake.Dev() {
		return
	}
	a, ok := e.fake.AttrIno(ino)
	if !ok {
		host := fk.host
		if host == "" || strings.HasPrefix(host, "/proc/") {
			// An fd, or a /proc magic link to one: where it leads.
			p := host
			if p == "" {
				p = procFd(t.tid, fk.fd)
			}
			var err error
			if host, err = readlinkString(p); err != nil {
				return
			}
		}
		if !e.staged(host) {
			return
		}
	}
	if fk.op == fakeStatx {
		le.PutUint32(b[statxUidOff:], a.Uid)
		le.PutUint32(b[statxGidOff:], a.Gid)
		if ok {
			le.PutUint16(b[statxModeOff:], uint16(a.Mode))
			le.PutUint32(b[statxRdevMajorOff:], unix.Major(a.Rdev))
			le.PutUint32(b[statxRdevMinorOff:], unix.Minor(a.Rdev))
		}
	} else {
		le.PutUint32(b[statUidOff:], a.Uid)
		le.PutUint32(b[statGidOff:], a.Gid)
		if ok {
			le.PutUint32(b[statModeOff:], a.Mode)
			le.PutUint64(b[statRdevOff:], a.Rdev)
		}
	}
	if err := linux.WriteMem(t.tid, uintptr(fk.buf), b); err != nil {
		e.log.Debug("fakeroot: stat", "tid", t.tid, "error", err)
	}
}
