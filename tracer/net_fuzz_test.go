package tracer

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzDecodeInet feeds the sockaddr decoder and the network policy
// arbitrary bytes, as a build can: the decoder must not panic, must agree
// with the bytes it read (port, and an address that encodes back to the
// same bytes), and the policy must never let an address through that its
// mode forbids: nothing inet under none, nothing but the local host under
// loopback.
func FuzzDecodeInet(f *testing.F) {
	v4 := make([]byte, 16)
	binary.NativeEndian.PutUint16(v4, unix.AF_INET)
	copy(v4[2:], []byte{0, 80, 127, 0, 0, 1})
	f.Add(v4, uint8(0))
	v6 := make([]byte, 28)
	binary.NativeEndian.PutUint16(v6, unix.AF_INET6)
	v6[3], v6[23] = 53, 1 // [::1]:53
	f.Add(v6, uint8(1))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(2)) // AF_UNSPEC bind
	f.Add([]byte{1, 0, '/', 't'}, uint8(0))                                 // AF_UNIX
	f.Fuzz(func(t *testing.T, b []byte, opb uint8) {
		if len(b) > sockaddrMax {
			b = b[:sockaddrMax]
		}
		op := netOp(opb % 3)
		fam, ap, ok := decodeInet(b, op)
		if !ok {
			return
		}
		if fam != unix.AF_INET && fam != unix.AF_INET6 {
			t.Fatalf("family %d", fam)
		}
		if port := binary.BigEndian.Uint16(b[2:]); ap.Port() != port {
			t.Fatalf("port %d, the bytes say %d", ap.Port(), port)
		}
		again := append([]byte(nil), b...)
		encodeInet(again, fam, ap.Addr())
		if string(again) != string(b) {
			t.Fatalf("%x decodes to %v, which encodes back as %x", b, ap, again)
		}
		if errno, _ := netVerdict(NetAllow, op, fam, ap); errno != 0 {
			t.Fatalf("allow refused %v: %v", ap, errno)
		}
		if errno, _ := netVerdict(NetNone, op, fam, ap); errno == 0 {
			t.Fatalf("none let %v through (op %d)", ap, op)
		}
		errno, rewrite := netVerdict(NetLoopback, op, fam, ap)
		if errno != 0 {
			return
		}
		got := ap.Addr()
		if rewrite.IsValid() {
			got = rewrite
		}
		if op == netBind && !got.Unmap().IsLoopback() || op != netBind && !local(got) {
			t.Fatalf("loopback let op %d on %v through (as %v)", op, ap, got)
		}
	})
}
