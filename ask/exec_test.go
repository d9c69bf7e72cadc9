package ask

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExecHandler(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "stdin")
	// Allows reads of paths ending in "ok", denies the rest, and keeps the
	// JSON it was given.
	policy := `cat > ` + got + `; case "$VROOT_ASK_OP $VROOT_ASK_PATH" in "read "*ok) exit 0;; *) exit 1;; esac`
	var stderr bytes.Buffer
	h, err := Parse("exec:"+policy, Env{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	a := New(h, Options{Default: true})
	if !a.Decide(Request{Pid: 7, Op: "read", Path: "/ask/ok", Rule: "/ask"}) {
		t.Fatal("read /ask/ok denied")
	}
	var in Request
	b, _ := os.ReadFile(got)
	if err := json.Unmarshal(b, &in); err != nil || in.Path != "/ask/ok" || in.Op != "read" || in.Pid != 7 || in.Rule != "/ask" {
		t.Fatalf("stdin %q: %+v, %v", b, in, err)
	}
	if a.Decide(Request{Op: "write", Path: "/ask/ok2", Rule: "/ask"}) {
		t.Fatal("write allowed")
	}
	recs := a.Records()
	if recs[1].Error != "" || recs[1].Answer != "deny" {
		t.Fatalf("exit 1 is a deny, not an error: %+v", recs[1])
	}
}

func TestExecHandlerErrorsGiveDefault(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"echo policy broke >&2; exit 2", "exit status 2"},
		{"kill -9 $$", "signal: killed"},
		{"/nonexistent/policy", "exit status 127"},
	} {
		var stderr bytes.Buffer
		a := New(&Exec{Command: tc.cmd, Stderr: &stderr}, Options{Default: true})
		if !a.Decide(Request{Op: "read", Path: "/ask/x"}) {
			t.Errorf("%q: default (allow) not applied", tc.cmd)
		}
		r := a.Records()[0]
		if !strings.Contains(r.Error, tc.want) || r.TimedOut {
			t.Errorf("%q: record %+v, want error with %q", tc.cmd, r, tc.want)
		}
	}
}

func TestExecHandlerTimeout(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	// The policy's own child would keep stdout/stderr open: the process
	// group is killed.
	a := New(&Exec{Command: "sleep 60 & echo $! > " + pidFile + "; wait"}, Options{Timeout: 300 * time.Millisecond})
	if a.Decide(Request{Op: "read", Path: "/ask/x"}) {
		t.Fatal("timed-out exec allowed")
	}
	r := a.Records()[0]
	if !r.TimedOut {
		t.Fatalf("record %+v", r)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	for range 100 {
		if _, err := os.Stat("/proc/" + pid); err != nil {
			return
		}
		if st, _ := os.ReadFile("/proc/" + pid + "/stat"); strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the policy's child %s outlived the timeout", pid)
}
