package tracer

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// sa4 and sa6 build sockaddr_in and sockaddr_in6 as the kernel reads them.
func sa4(fam uint16, addr string, port uint16) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint16(b, fam)
	binary.BigEndian.PutUint16(b[2:], port)
	a := netip.MustParseAddr(addr).As4()
	copy(b[4:], a[:])
	return b
}

func sa6(addr string, port uint16, scope uint32) []byte {
	b := make([]byte, 28)
	binary.NativeEndian.PutUint16(b, unix.AF_INET6)
	binary.BigEndian.PutUint16(b[2:], port)
	binary.NativeEndian.PutUint32(b[4:], 0x12345)
	a := netip.MustParseAddr(addr).As16()
	copy(b[8:], a[:])
	binary.NativeEndian.PutUint32(b[24:], scope)
	return b
}

func TestDecodeInet(t *testing.T) {
	un := make([]byte, 20)
	binary.NativeEndian.PutUint16(un, unix.AF_UNIX)
	copy(un[2:], "/tmp/sock")
	for _, tc := range []struct {
		name string
		b    []byte
		op   netOp
		ok   bool
		fam  int
		want string
	}{
		{"inet", sa4(unix.AF_INET, "10.1.2.3", 80), netConnect, true, unix.AF_INET, "10.1.2.3:80"},
		{"inet loopback", sa4(unix.AF_INET, "127.0.0.1", 7777), netSend, true, unix.AF_INET, "127.0.0.1:7777"},
		{"inet6", sa6("2001:db8::1", 443, 0), netConnect, true, unix.AF_INET6, "[2001:db8::1]:443"},
		{"inet6 rfc2133 length", sa6("::1", 53, 0)[:24], netSend, true, unix.AF_INET6, "[::1]:53"},
		{"v4-mapped", sa6("::ffff:127.0.0.1", 22, 0), netConnect, true, unix.AF_INET6, "[::ffff:127.0.0.1]:22"},
		{"unspec connect dissolves", sa4(unix.AF_UNSPEC, "10.1.2.3", 80), netConnect, false, 0, ""},
		{"unspec send is inet", sa4(unix.AF_UNSPEC, "10.1.2.3", 53), netSend, true, unix.AF_INET, "10.1.2.3:53"},
		{"unspec bind is the wildcard", sa4(unix.AF_UNSPEC, "0.0.0.0", 8080), netBind, true, unix.AF_INET, "0.0.0.0:8080"},
		{"inet too short", sa4(unix.AF_INET, "10.1.2.3", 80)[:15], netConnect, false, 0, ""},
		{"inet6 too short", sa6("::1", 53, 0)[:23], netConnect, false, 0, ""},
		{"unix", un, netConnect, false, 0, ""},
		{"one byte", []byte{2}, netConnect, false, 0, ""},
	} {
		fam, ap, ok := decodeInet(tc.b, tc.op)
		if ok != tc.ok || ok && (fam != tc.fam || ap.String() != tc.want) {
			t.Errorf("%s: got %v %d %v, want %v %d %s", tc.name, ok, fam, ap, tc.ok, tc.fam, tc.want)
		}
	}
}

func TestEncodeInetKeepsOtherFields(t *testing.T) {
	b := sa6("::", 8080, 7)
	encodeInet(b, unix.AF_INET6, netip.IPv6Loopback())
	want := sa6("::1", 8080, 7)
	if string(b) != string(want) {
		t.Errorf("got %x, want %x", b, want)
	}
	b = sa4(unix.AF_INET, "0.0.0.0", 80)
	encodeInet(b, unix.AF_INET, netip.MustParseAddr("127.0.0.1"))
	if fam, ap, ok := decodeInet(b, netBind); !ok || fam != unix.AF_INET || ap.String() != "127.0.0.1:80" {
		t.Errorf("v4 rewrite: %v %v", ap, ok)
	}
}

func TestNetVerdict(t *testing.T) {
	const (
		in4 = unix.AF_INET
		in6 = unix.AF_INET6
	)
	for _, tc := range []struct {
		p       NetPolicy
		op      netOp
		fam     int
		addr    string
		errno   syscall.Errno
		rewrite string
	}{
		// allow: everything.
		{NetAllow, netConnect, in4, "10.1.2.3:80", 0, ""},
		{NetAllow, netBind, in4, "0.0.0.0:80", 0, ""},
		{NetAllow, netSend, in6, "[2001:db8::1]:53", 0, ""},
		// loopback: only the local host.
		{NetLoopback, netConnect, in4, "127.0.0.1:80", 0, ""},
		{NetLoopback, netConnect, in4, "127.8.9.10:80", 0, ""},
		{NetLoopback, netConnect, in6, "[::1]:80", 0, ""},
		{NetLoopback, netConnect, in6, "[::ffff:127.0.0.1]:80", 0, ""},
		{NetLoopback, netConnect, in4, "0.0.0.0:80", 0, ""},
		{NetLoopback, netConnect, in4, "10.1.2.3:80", syscall.ENETUNREACH, ""},
		{NetLoopback, netConnect, in4, "128.0.0.1:80", syscall.ENETUNREACH, ""},
		{NetLoopback, netConnect, in6, "[::ffff:10.1.2.3]:80", syscall.ENETUNREACH, ""},
		{NetLoopback, netConnect, in6, "[::2]:80", syscall.ENETUNREACH, ""},
		{NetLoopback, netSend, in4, "10.1.2.3:53", syscall.ENETUNREACH, ""},
		{NetLoopback, netSend, in6, "[::1]:53", 0, ""},
		{NetLoopback, netBind, in4, "127.0.0.1:80", 0, ""},
		{NetLoopback, netBind, in4, "0.0.0.0:80", 0, "127.0.0.1"},
		{NetLoopback, netBind, in6, "[::]:80", 0, "::1"},
		{NetLoopback, netBind, in6, "[::ffff:0.0.0.0]:80", 0, "::ffff:127.0.0.1"},
		{NetLoopback, netBind, in4, "10.1.2.3:80", syscall.EADDRNOTAVAIL, ""},
		{NetLoopback, netBind, in6, "[fe80::1]:80", syscall.EADDRNOTAVAIL, ""},
		// none: loopback too.
		{NetNone, netConnect, in4, "127.0.0.1:80", syscall.ECONNREFUSED, ""},
		{NetNone, netConnect, in6, "[::ffff:127.0.0.1]:80", syscall.ECONNREFUSED, ""},
		{NetNone, netConnect, in4, "10.1.2.3:80", syscall.ENETUNREACH, ""},
		{NetNone, netSend, in4, "127.0.0.1:53", syscall.EPERM, ""},
		{NetNone, netSend, in6, "[2001:db8::1]:53", syscall.ENETUNREACH, ""},
		{NetNone, netBind, in4, "127.0.0.1:80", syscall.EACCES, ""},
		{NetNone, netBind, in4, "0.0.0.0:0", syscall.EACCES, ""},
		{NetNone, netBind, in4, "10.1.2.3:80", syscall.EADDRNOTAVAIL, ""},
	} {
		errno, rw := netVerdict(tc.p, tc.op, tc.fam, netip.MustParseAddrPort(tc.addr))
		got := ""
		if rw.IsValid() {
			got = rw.String()
		}
		if errno != tc.errno || got != tc.rewrite {
			t.Errorf("%v op %d %s: errno %v rewrite %q, want %v %q", tc.p, tc.op, tc.addr, errno, got, tc.errno, tc.rewrite)
		}
	}
}

func TestParseNetPolicy(t *testing.T) {
	for _, s := range []string{"allow", "loopback", "none"} {
		p, ok := ParseNetPolicy(s)
		if !ok || p.String() != s {
			t.Errorf("%q: %v %v", s, p, ok)
		}
	}
	if p, ok := ParseNetPolicy(""); !ok || p != NetAllow {
		t.Errorf(`"": %v %v`, p, ok)
	}
	if _, ok := ParseNetPolicy("off"); ok {
		t.Error(`"off" accepted`)
	}
}

// TestNetSyscallsTraced: the network policy sees every call it judges,
// whatever the policy (one filter serves them all): bind, connect,
// sendmsg and sendmmsg always stop; sendto stops when it names an address
// (argument 4), and only then, so a send on a connected socket costs none.
func TestNetSyscallsTraced(t *testing.T) {
	for _, name := range []string{"bind", "connect", "sendto", "sendmsg", "sendmmsg"} {
		var row *Sysent
		for i := range table {
			if table[i].Name == name {
				row = &table[i]
			}
		}
		if row == nil {
			t.Errorf("%s: not in the table", name)
			continue
		}
		v, err := rowVerdict(row)
		if err != nil {
			t.Fatal(err)
		}
		want := verdict{ret: retTrace}
		if name == "sendto" {
			want.gate = 1 << 4
		}
		if v != want || specialHandlers[name] == nil {
			t.Errorf("%s: verdict %+v, want %+v (handler %v)", name, v, want, specialHandlers[name] != nil)
		}
	}
}
