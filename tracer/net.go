package tracer

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
)

// NetPolicy is what a build may reach through inet and inet6 sockets.
// AF_UNIX sockets are files (their paths go through the filemap); other
// families pass as they are.
type NetPolicy uint8

const (
	// NetAllow lets everything through; attempts are still reported.
	NetAllow NetPolicy = iota
	// NetLoopback lets the build talk to 127.0.0.0/8 and ::1 (and the
	// unspecified address, which the kernel routes to the local host);
	// a bind to the wildcard address is narrowed to the loopback one.
	NetLoopback
	// NetNone refuses every inet and inet6 bind, connect and addressed
	// send, loopback included.
	NetNone
)

// ParseNetPolicy maps "allow", "loopback", "none" (and "" for allow) to a
// policy.
func ParseNetPolicy(s string) (NetPolicy, bool) {
	switch s {
	case "", "allow":
		return NetAllow, true
	case "loopback":
		return NetLoopback, true
	case "none":
		return NetNone, true
	}
	return NetAllow, false
}

func (p NetPolicy) String() string {
	switch p {
	case NetLoopback:
		return "loopback"
	case NetNone:
		return "none"
	}
	return "allow"
}

// NetEvent is one bind, connect or addressed send on an inet or inet6
// address that the policy looked at.
type NetEvent struct {
	Pid     int
	Syscall string
	// Family is unix.AF_INET or unix.AF_INET6: the layout of the address
	// the build passed (an AF_UNSPEC address that the kernel reads as
	// inet is reported as AF_INET).
	Family int
	// Addr is the address the build named.
	Addr    netip.AddrPort
	Allowed bool
	// Errno is what the build got instead, when refused.
	Errno syscall.Errno
	// Rewritten, when valid, is the address the call ran with instead
	// (a wildcard bind narrowed to loopback).
	Rewritten netip.AddrPort
}

// netOp is what a syscall does with an address.
type netOp uint8

const (
	netConnect netOp = iota
	netSend
	netBind
)

// Sizes the kernel requires before it reads an inet address (shorter is
// EINVAL from the kernel itself: nothing to decide).
const (
	sockaddrIn4Len = 16 // struct sockaddr_in
	sockaddrIn6Len = 24 // SIN6_LEN_RFC2133: sockaddr_in6 without sin6_scope_id
)

// decodeInet reads the inet or inet6 address of a sockaddr (b is its first
// alen bytes). op matters for AF_UNSPEC: connect takes it to dissolve an
// association (no address), while bind and the UDP send path read an
// AF_UNSPEC sockaddr as sockaddr_in. ok is false for anything else: other
// families, AF_UNIX, or lengths the kernel refuses itself.
func decodeInet(b []byte, op netOp) (fam int, ap netip.AddrPort, ok bool) {
	if len(b) < 2 {
		return 0, netip.AddrPort{}, false
	}
	fam = int(binary.NativeEndian.Uint16(b))
	if fam == unix.AF_UNSPEC && op != netConnect {
		fam = unix.AF_INET
	}
	switch fam {
	case unix.AF_INET:
		if len(b) < sockaddrIn4Len {
			return 0, netip.AddrPort{}, false
		}
		port := binary.BigEndian.Uint16(b[2:])
		return fam, netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), true
	case unix.AF_INET6:
		if len(b) < sockaddrIn6Len {
			return 0, netip.AddrPort{}, false
		}
		port := binary.BigEndian.Uint16(b[2:])
		return fam, netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port), true
	}
	return 0, netip.AddrPort{}, false
}

// encodeInet writes ap over the address field of the sockaddr b (same
// family and layout), keeping its other fields (sin6_flowinfo, scope id).
func encodeInet(b []byte, fam int, a netip.Addr) {
	switch fam {
	case unix.AF_INET:
		v := a.As4()
		copy(b[4:8], v[:])
	case unix.AF_INET6:
		v := a.As16()
		copy(b[8:24], v[:])
	}
}

// local reports whether traffic to a stays on this host's loopback: the
// 127.0.0.0/8 and ::1 addresses (v4-mapped ones included) and the
// unspecified address, which the kernel takes as the local host for
// connect and send.
func local(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsUnspecified()
}

// netVerdict is the policy's answer for op on ap: 0 lets it run, with ap
// replaced by rewrite when rewrite is valid; otherwise the errno a host
// behind a firewall would give:
//
//	connect, non-loopback:           ENETUNREACH (no route out)
//	connect, loopback (none):        ECONNREFUSED (nothing listens)
//	send*, non-loopback:             ENETUNREACH
//	send*, loopback (none):          EPERM (what an OUTPUT-chain drop says)
//	bind, a non-loopback address:    EADDRNOTAVAIL (the host has no such address)
//	bind, loopback/wildcard (none):  EACCES (as Landlock refuses a bind)
//	bind, wildcard (loopback):       runs, narrowed to 127.0.0.1 or ::1
func netVerdict(p NetPolicy, op netOp, fam int, ap netip.AddrPort) (errno syscall.Errno, rewrite netip.Addr) {
	if p == NetAllow {
		return 0, netip.Addr{}
	}
	a := ap.Addr()
	u := a.Unmap()
	if op == netBind {
		switch {
		case u.IsLoopback() && p == NetLoopback:
			return 0, netip.Addr{}
		case u.IsUnspecified() && p == NetLoopback:
			switch {
			case fam == unix.AF_INET:
				return 0, netip.AddrFrom4([4]byte{127, 0, 0, 1})
			case a.Is4In6():
				return 0, netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: 127, 15: 1})
			}
			return 0, netip.IPv6Loopback()
		case u.IsLoopback() || u.IsUnspecified():
			return syscall.EACCES, netip.Addr{}
		}
		return syscall.EADDRNOTAVAIL, netip.Addr{}
	}
	if !local(a) {
		return syscall.ENETUNREACH, netip.Addr{}
	}
	if p == NetLoopback {
		return 0, netip.Addr{}
	}
	if op == netConnect {
		return syscall.ECONNREFUSED, netip.Addr{}
	}
	return syscall.EPERM, netip.Addr{}
}

// sockaddrMax is the most of a sockaddr the policy reads: sockaddr_in6.
const sockaddrMax = 28

// netCheck applies the policy to the sockaddr at addr (alen bytes) that
// the stop's syscall names, and reports the attempt. inet says the address
// was inet or inet6 (so no AF_UNIX path to translate); errno, when set, is
// the refusal the caller gives. With place, an allowed address the policy
// restricts is copied into the scratch slot (narrowed, for a wildcard
// bind) and naddr, nlen point at the copy, so that the kernel connects to
// exactly what was checked even if another thread rewrites the original;
// placed says so.
func (e *engine) netCheck(s *stop, op netOp, addr, alen uint64, place bool) (inet bool, errno syscall.Errno, naddr, nlen uint64, placed bool) {
	if addr == 0 || alen < 2 || s.t.mm.contains(addr) {
		return false, 0, 0, 0, false
	}
	n := min(alen, sockaddrMax)
	var sa [sockaddrMax]byte
	got, err := linux.ReadMem(s.t.tid, uintptr(addr), sa[:n])
	if err != nil || uint64(got) != n {
		return false, 0, 0, 0, false // the kernel reports EFAULT itself
	}
	fam, ap, ok := decodeInet(sa[:n], op)
	if !ok {
		return false, 0, 0, 0, false
	}
	errno, rw := netVerdict(e.cfg.Net, op, fam, ap)
	ev := NetEvent{Pid: s.t.tgid, Syscall: s.ent.Name, Family: fam, Addr: ap, Allowed: errno == 0, Errno: errno}
	if errno == 0 && (rw.IsValid() || place && e.cfg.Net != NetAllow) {
		data := make([]byte, n)
		copy(data, sa[:n])
		if rw.IsValid() {
			encodeInet(data, fam, rw)
			ev.Rewritten = netip.AddrPortFrom(rw, ap.Port())
		}
		s.writes = append(s.writes, scratchWrite{off: slotStruct, data: data})
		s.changed = true
		naddr, nlen, placed = scratchRelative|slotStruct, n, true
	}
	if e.cfg.OnNet != nil {
		e.cfg.OnNet(ev)
	}
	return true, errno, naddr, nlen, placed
}
