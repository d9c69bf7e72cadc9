package ask

import (
	"bufio"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// peer serves the socket protocol with reply, which gets each request and
// returns the line to send back ("" sends nothing, "CLOSE" hangs up).
func peer(t *testing.T, reply func(Request) string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ask.sock")
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					var r Request
					if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
						return
					}
					out := reply(r)
					if out == "CLOSE" {
						return
					}
					if out != "" {
						c.Write([]byte(out + "\n"))
					}
				}
			}()
		}
	}()
	return p
}

func line(id uint64, ans, extra string) string {
	b, _ := json.Marshal(map[string]any{"id": id, "answer": ans})
	if extra != "" {
		return strings.TrimSuffix(string(b), "}") + "," + extra + "}"
	}
	return string(b)
}

func TestSocketAnswers(t *testing.T) {
	var seen []Request
	p := peer(t, func(r Request) string {
		seen = append(seen, r)
		switch {
		case r.Path == "/ask/tree":
			return line(r.ID, "allow", `"scope":"prefix"`)
		case strings.HasSuffix(r.Path, "ok"):
			return line(r.ID, "allow", "")
		}
		return line(r.ID, "deny", "")
	})
	a := New(&Socket{Path: p}, Options{Default: true})
	if !a.Decide(Request{Pid: 3, Op: "read", Path: "/ask/ok", Rule: "/ask"}) {
		t.Fatal("denied /ask/ok")
	}
	if a.Decide(Request{Op: "read", Path: "/ask/no", Rule: "/ask"}) {
		t.Fatal("allowed /ask/no")
	}
	if !a.Decide(Request{Op: "read", Path: "/ask/tree", Rule: "/ask"}) || !a.Decide(Request{Op: "read", Path: "/ask/tree/x/y", Rule: "/ask"}) {
		t.Fatal("prefix allow not applied")
	}
	if len(seen) != 3 || seen[0].ID != 1 || seen[2].ID != 3 || seen[0].Pid != 3 || seen[0].Rule != "/ask" {
		t.Fatalf("peer saw %+v", seen)
	}
	for _, r := range a.Records() {
		if r.Error != "" {
			t.Fatalf("record %+v", r)
		}
	}
}

func TestSocketFailuresGiveDefault(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reply    func(Request) string
		timedOut bool
		err      string
	}{
		{"malformed", func(r Request) string { return `{"id":` }, false, "malformed reply"},
		{"bad answer", func(r Request) string { return line(r.ID, "maybe", "") }, false, `answer "maybe"`},
		{"bad prefix", func(r Request) string { return line(r.ID, "allow", `"scope":"prefix","prefix":"/elsewhere"`) }, false, "does not contain"},
		{"wrong id", func(r Request) string { return line(r.ID+5, "allow", "") }, false, "expected"},
		{"closed", func(r Request) string { return "CLOSE" }, false, "closed the connection"},
		{"silent", func(r Request) string { return "" }, true, "no answer within 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := peer(t, tc.reply)
			// A short timeout only where no answer can come in time.
			timeout := 30 * time.Second
			if tc.timedOut {
				timeout = 200 * time.Millisecond
			}
			a := New(&Socket{Path: p}, Options{Timeout: timeout, Default: false})
			if a.Decide(Request{Op: "read", Path: "/ask/x", Rule: "/ask"}) {
				t.Fatal("allowed: the default is deny")
			}
			r := a.Records()[0]
			if r.TimedOut != tc.timedOut || !strings.Contains(r.Error, tc.err) {
				t.Fatalf("record %+v, want timed out %v and error with %q", r, tc.timedOut, tc.err)
			}
		})
	}
}

func TestSocketNoPeer(t *testing.T) {
	a := New(&Socket{Path: filepath.Join(t.TempDir(), "none.sock")}, Options{Default: true})
	if !a.Decide(Request{Op: "read", Path: "/ask/x"}) {
		t.Fatal("default allow not applied")
	}
	if r := a.Records()[0]; !strings.Contains(r.Error, "connect") {
		t.Fatalf("record %+v", r)
	}
}

func TestSocketRecoversAfterTimeout(t *testing.T) {
	// The first reply comes after the timeout: it must not answer the
	// second request, which goes over a new connection.
	late := make(chan struct{})
	sent := make(chan struct{})
	n := 0
	p := peer(t, func(r Request) string {
		n++
		if n == 1 {
			<-late
			defer close(sent)
			return line(r.ID, "allow", "")
		}
		return line(r.ID, "deny", "")
	})
	s := &Socket{Path: p}
	a := New(s, Options{Timeout: 100 * time.Millisecond, Default: false})
	if a.Decide(Request{Op: "read", Path: "/ask/a"}) || !a.Records()[0].TimedOut {
		t.Fatalf("first: %+v", a.Records())
	}
	close(late)
	<-sent
	a2 := New(s, Options{Timeout: 30 * time.Second, Default: true})
	if a2.Decide(Request{Op: "read", Path: "/ask/b"}) || a2.Records()[0].Error != "" {
		t.Fatalf("second request: %+v", a2.Records())
	}
}
