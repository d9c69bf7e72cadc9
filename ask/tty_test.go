package ask

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
)

// pty opens a pseudo-terminal and returns the master and the slave's path.
func pty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, slave, err := linux.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, slave
}

// readUntil reads m until out contains s.
func readUntil(t *testing.T, m *os.File, out *bytes.Buffer, s string) {
	t.Helper()
	buf := make([]byte, 4096)
	m.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !strings.Contains(out.String(), s) {
		n, err := m.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", s, err, out.String())
		}
	}
}

func TestTTYHandler(t *testing.T) {
	m, slave := pty(t)
	tty := NewTTY(slave)
	defer tty.Close()
	a := New(tty, Options{Default: true})
	for _, tc := range []struct {
		key   string
		path  string
		allow bool
		note  string
	}{
		{"y", "/ask/once-yes", true, "allowed once"},
		{"x\x1b", "/ask/esc", false, "denied once"}, // x is not an answer: asked on
		{"n", "/ask/once-no", false, "denied once"},
		// The terminal is no one's controlling terminal here: no signal.
		{"\x03", "/ask/intr", false, "denied once"},
	} {
		var out bytes.Buffer
		done := make(chan bool)
		go func() {
			done <- a.Decide(Request{Pid: 42, Command: "cc -c a.c", Op: "read", Path: tc.path, Rule: "/ask"})
		}()
		readUntil(t, m, &out, "[d]eny always")
		if !strings.Contains(out.String(), "pid 42 (cc -c a.c) read "+tc.path+"?") {
			t.Fatalf("prompt %q", out.String())
		}
		m.Write([]byte(tc.key))
		if got := <-done; got != tc.allow {
			t.Fatalf("key %q: allow %v", tc.key, got)
		}
		readUntil(t, m, &out, tc.note+": read "+tc.path)
	}
	// Keys are not echoed: the terminal was in raw mode, and is restored.
	st, err := unix.IoctlGetTermios(int(m.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lflag&unix.ICANON == 0 || st.Lflag&unix.ECHO == 0 {
		t.Fatalf("terminal left in raw mode: lflag %#x", st.Lflag)
	}
	// "always" covers the whole rule.
	done := make(chan bool)
	go func() { done <- a.Decide(Request{Op: "write", Path: "/ask/dir/f", Rule: "/ask"}) }()
	var out bytes.Buffer
	readUntil(t, m, &out, "[d]eny always")
	m.Write([]byte("d"))
	if <-done {
		t.Fatal("deny always allowed")
	}
	if a.Decide(Request{Op: "read", Path: "/ask/other"}) {
		t.Fatal("deny always not applied to the rule")
	}
	if !a.Decide(Request{Op: "read", Path: "/ask/once-yes"}) {
		t.Fatal("an earlier per-path answer lost")
	}
}

func TestTTYHandlerTimeout(t *testing.T) {
	m, slave := pty(t)
	tty := NewTTY(slave)
	defer tty.Close()
	a := New(tty, Options{Timeout: 300 * time.Millisecond, Default: false})
	var out bytes.Buffer
	done := make(chan bool)
	go func() { done <- a.Decide(Request{Op: "read", Path: "/ask/late", Rule: "/ask"}) }()
	readUntil(t, m, &out, "[d]eny always")
	if <-done {
		t.Fatal("no answer allowed")
	}
	readUntil(t, m, &out, "no answer: read /ask/late")
	if r := a.Records()[0]; !r.TimedOut {
		t.Fatalf("record %+v", r)
	}
	// The timed-out question let go of the terminal: the next one is asked
	// (a handler stuck in its read would hold it, and this one would time
	// out unasked).
	a2 := New(tty, Options{Timeout: 10 * time.Second})
	go func() { done <- a2.Decide(Request{Op: "read", Path: "/ask/next", Rule: "/ask"}) }()
	out.Reset()
	readUntil(t, m, &out, "read /ask/next?")
	m.Write([]byte("y"))
	if !<-done {
		t.Fatal("denied")
	}
	// A key typed before a question answers nothing: the question waits
	// for its own.
	m.Write([]byte("y"))
	time.Sleep(50 * time.Millisecond)
	go func() { done <- a2.Decide(Request{Op: "read", Path: "/ask/third", Rule: "/ask"}) }()
	out.Reset()
	readUntil(t, m, &out, "read /ask/third?")
	m.Write([]byte("n"))
	if <-done {
		t.Fatal("allowed by a key typed before the question")
	}
}

func TestTTYHandlerNoTerminal(t *testing.T) {
	a := New(NewTTY("/nonexistent/tty"), Options{Default: true})
	if !a.Decide(Request{Op: "read", Path: "/ask/x"}) {
		t.Fatal("default not applied")
	}
	if r := a.Records()[0]; !strings.Contains(r.Error, "open") {
		t.Fatalf("record %+v", r)
	}
}
