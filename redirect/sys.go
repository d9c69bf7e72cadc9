package redirect

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	pathMax     = 4096 // PATH_MAX, the NUL included
	maxSymlinks = 40   // the kernel's MAXSYMLINKS
)

// File types as lstat reports them, reduced to what a walk needs.
const (
	kMissing uint8 = iota
	kDir
	kLink
	kOther
)

// atFDCWD is a variable so that it converts to uintptr.
var atFDCWD = unix.AT_FDCWD

// cpath writes dir + "/" + name (dir alone when name is empty) as a C
// string into small when it fits: the hot path lstats one name per request
// and must not allocate for it. The second result is ENAMETOOLONG when the
// kernel would refuse the string.
func cpath(small []byte, dir, name string) ([]byte, syscall.Errno) {
	n := len(dir)
	if name != "" {
		if dir != "/" {
			n++
		}
		n += len(name)
	}
	if n >= pathMax {
		return nil, syscall.ENAMETOOLONG
	}
	b := small
	if n+1 > len(b) {
		b = make([]byte, n+1)
	}
	i := copy(b, dir)
	if name != "" {
		if dir != "/" {
			b[i] = '/'
			i++
		}
		i += copy(b[i:], name)
	}
	b[i] = 0
	return b[:i+1], 0
}

// statInfo is what a lookup learns about a name.
type statInfo struct {
	kind uint8
	mode uint32 // S_IFMT bits and permissions
	dev  uint64
	ino  uint64
}

// lstatKind is lstat (stat when follow) of dir/name, reduced to its type.
func lstatKind(dir, name string, follow bool) (uint8, syscall.Errno) {
	st, errno := lstatInfo(dir, name, follow)
	return st.kind, errno
}

// lstatInfo is lstat (stat when follow) of dir/name: its type, mode and
// identity, which statx gives for the price of the type alone.
func lstatInfo(dir, name string, follow bool) (statInfo, syscall.Errno) {
	var small [256]byte
	b, errno := cpath(small[:], dir, name)
	if errno != 0 {
		return statInfo{}, errno
	}
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	var st unix.Statx_t
	_, _, e := unix.Syscall6(unix.SYS_STATX, uintptr(atFDCWD), uintptr(unsafe.Pointer(&b[0])),
		uintptr(flags), unix.STATX_TYPE|unix.STATX_MODE|unix.STATX_INO, uintptr(unsafe.Pointer(&st)), 0)
	if e != 0 {
		return statInfo{}, e
	}
	si := statInfo{
		mode: uint32(st.Mode),
		dev:  unix.Mkdev(st.Dev_major, st.Dev_minor),
		ino:  st.Ino,
	}
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFDIR:
		si.kind = kDir
	case unix.S_IFLNK:
		si.kind = kLink
	default:
		si.kind = kOther
	}
	return si, 0
}

// readlinkAt is readlink of dir/name.
func readlinkAt(dir, name string) (string, syscall.Errno) {
	var small [256]byte
	b, errno := cpath(small[:], dir, name)
	if errno != 0 {
		return "", errno
	}
	// Most targets are short: try a small buffer before a PATH_MAX one.
	var out [256]byte
	n, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&b[0])),
		uintptr(unsafe.Pointer(&out[0])), uintptr(len(out)), 0, 0)
	if e != 0 {
		return "", e
	}
	if int(n) < len(out) {
		return string(out[:n]), 0
	}
	big := make([]byte, pathMax)
	n, _, e = unix.Syscall6(unix.SYS_READLINKAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&b[0])),
		uintptr(unsafe.Pointer(&big[0])), uintptr(len(big)), 0, 0)
	if e != 0 {
		return "", e
	}
	return string(big[:n]), 0
}
