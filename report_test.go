package vroot

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/internal/jsonschema"
	"github.com/vroot-dev/vroot/redirect"
	"github.com/vroot-dev/vroot/tracer"
)

func reportSchema(t *testing.T) jsonschema.Schema {
	t.Helper()
	md, err := os.ReadFile("docs/report.md")
	if err != nil {
		t.Fatal(err)
	}
	b, err := jsonschema.FromMarkdown(md, "schema")
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReportSchema keeps docs/report.md and the Report type in step: the
// documented schema describes the Go types field by field, the documented
// example is valid, and so are reports NewReport makes.
func TestReportSchema(t *testing.T) {
	s := reportSchema(t)
	if err := s.CompareType(reflect.TypeOf(Report{})); err != nil {
		t.Errorf("docs/report.md's schema and the Report type differ:\n%v", err)
	}
	md, _ := os.ReadFile("docs/report.md")
	ex, err := jsonschema.FromMarkdown(md, "example")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateJSON(ex); err != nil {
		t.Errorf("the documented example does not validate:\n%v", err)
	}
	// Every field of the Go types is named in the field table too.
	for _, name := range []string{"version", "command", "dir", "net", "started", "duration_seconds", "exit.code",
		"exit.signal", "error", "stage.dir", "violations[]", "asks[]", "reads[]", "reads_dropped", "network[]", "network_dropped"} {
		if !strings.Contains(string(md), "| `"+name+"`") {
			t.Errorf("docs/report.md's field table has no row for %s", name)
		}
	}

	full := Result{
		ExitCode: 137, Signal: syscall.SIGKILL, Started: time.Now(), Duration: 1500 * time.Millisecond,
		Violations: []Violation{{Pid: 7, Command: "cat /x", Syscall: "openat", Op: "read", Guest: "/x", Errno: syscall.EACCES, Rule: "--deny /x"}},
		Stage: StageSummary{Dir: "/st", Added: 1, Modified: 1, Deleted: 1,
			Changes: []Change{{'A', "/usr/bin/a"}, {'M', "/etc/m"}, {'D', "/etc/d"}}},
		Reads:        []Read{{Layer: "host", Path: "/usr/include/stdio.h", Host: "/usr/include/stdio.h", Pid: 8, Command: "cc1"}},
		Asks:         []AskRecord{{Pid: 9, Op: "read", Path: "/home/me/.netrc", Answer: "deny", Handler: "tty", TimedOut: true}},
		Network:      []NetAttempt{{Pid: 10, Syscall: "connect", Family: "inet", Address: "10.1.2.3:80", Errno: "ENETUNREACH", Count: 2}},
		ReadsDropped: 3,
	}
	cfg := Config{Args: []string{"make", "-j2"}, Dir: "/src", Net: "none"}
	for name, r := range map[string]Report{
		"full":  NewReport(cfg, full, errors.New("lost the tracer")),
		"empty": NewReport(Config{Args: []string{"true"}}, Result{}, nil),
	} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ValidateJSON(b); err != nil {
			t.Errorf("%s report does not validate:\n%v\n%s", name, err, b)
		}
	}
	r := NewReport(cfg, full, nil)
	if r.Exit.Signal != "SIGKILL" || r.Exit.Code != 137 || r.Net != "none" ||
		strings.Join(r.Stage.Added, ",") != "/usr/bin/a" || strings.Join(r.Stage.Modified, ",") != "/etc/m" ||
		strings.Join(r.Stage.Deleted, ",") != "/etc/d" || r.Violations[0].Errno != "EACCES" || r.Violations[0].Path != "/x" {
		t.Errorf("report: %+v", r)
	}
}

func TestReportWriteFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewReport(Config{Args: []string{"true"}}, Result{ExitCode: 3}, nil)
	if err := r.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Exit.Code != 3 || back.Net != "allow" {
		t.Errorf("read back %+v (%v)", back, err)
	}
	if es, _ := os.ReadDir(filepath.Dir(p)); len(es) != 1 {
		t.Errorf("left %d entries beside the report", len(es))
	}
}

// fakeProc makes a /proc-like tree with the command lines of some pids.
func fakeProc(t *testing.T, cmds map[int]string) string {
	dir := t.TempDir()
	for pid, c := range cmds {
		d := filepath.Join(dir, strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cmdline"), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRecorderReads(t *testing.T) {
	rec := newRecorder(3)
	rec.procRoot = fakeProc(t, map[int]string{10: "cc1\x00-quiet\x00a b.c\x00", 11: "ld\x00"})
	root := &filemap.Rule{Path: "/", Action: filemap.Redirect}
	sdk := &filemap.Rule{Path: "/usr/include", Action: filemap.Redirect, To: []string{"/sdk/usr/include", "/usr/include"}}
	rec.read(10, redirect.Answer{Guest: "/usr/include/stdio.h", Host: "/usr/include/stdio.h", Layer: "/usr/include", Rule: sdk})
	rec.read(10, redirect.Answer{Guest: "/usr/include/zlib.h", Host: "/sdk/usr/include/zlib.h", Layer: "/sdk/usr/include", Rule: sdk})
	// A second reader of a recorded file changes nothing.
	rec.read(11, redirect.Answer{Guest: "/usr/include/stdio.h", Host: "/usr/include/stdio.h", Layer: "/usr/include", Rule: sdk})
	rec.read(11, redirect.Answer{Guest: "/etc/ld.so.cache", Host: "/etc/ld.so.cache", Layer: "/", Rule: root})
	// Past the bound: counted, not listed.
	rec.read(11, redirect.Answer{Guest: "/etc/passwd", Host: "/etc/passwd", Layer: "/", Rule: root})
	rec.read(11, redirect.Answer{Guest: "/etc/group", Host: "/etc/group", Layer: "/", Rule: root})
	var res Result
	rec.results(&res)
	want := []Read{
		{Layer: "host", Path: "/etc/ld.so.cache", Host: "/etc/ld.so.cache", Pid: 11, Command: "ld"},
		{Layer: "host", Path: "/usr/include/stdio.h", Host: "/usr/include/stdio.h", Pid: 10, Command: "cc1 -quiet 'a b.c'"},
		{Layer: "/sdk/usr/include", Path: "/usr/include/zlib.h", Host: "/sdk/usr/include/zlib.h", Pid: 10, Command: "cc1 -quiet 'a b.c'"},
	}
	if !reflect.DeepEqual(res.Reads, want) {
		t.Errorf("reads:\n%+v\nwant\n%+v", res.Reads, want)
	}
	if res.ReadsDropped != 2 {
		t.Errorf("dropped %d, want 2", res.ReadsDropped)
	}

	// The steady state allocates nothing.
	a := redirect.Answer{Guest: "/usr/include/stdio.h", Host: "/usr/include/stdio.h", Layer: "/usr/include", Rule: sdk}
	if n := testing.AllocsPerRun(1000, func() { rec.read(10, a) }); n != 0 {
		t.Errorf("a read of a recorded file allocates %v times", n)
	}
}

func TestRecorderCommands(t *testing.T) {
	proc := fakeProc(t, map[int]string{20: "sh\x00-c\x00make\x00"})
	rec := newRecorder(0)
	rec.procRoot = proc
	if c := rec.command(20); c != "sh -c make" {
		t.Errorf("command %q", c)
	}
	// Cached until the process execs.
	os.WriteFile(filepath.Join(proc, "20", "cmdline"), []byte("make\x00-j2\x00"), 0o644)
	if c := rec.command(20); c != "sh -c make" {
		t.Errorf("cached command %q", c)
	}
	rec.forget(20)
	if c := rec.command(20); c != "make -j2" {
		t.Errorf("after exec: %q", c)
	}
	if c := rec.command(99); c != "" {
		t.Errorf("a gone process: %q", c)
	}
	long := strings.Repeat("x", 5000)
	if c := formatCmdline([]byte(long + "\x00")); len(c) != maxCommand+3 || !strings.HasSuffix(c, "...") {
		t.Errorf("long command: %d bytes", len(c))
	}
	if c := formatCmdline([]byte("echo\x00it's\x00\x00$HOME\x00")); c != `echo 'it'\''s' '' '$HOME'` {
		t.Errorf("quoting: %s", c)
	}
}

func TestRecorderNetwork(t *testing.T) {
	rec := newRecorder(0)
	rec.procRoot = fakeProc(t, map[int]string{30: "curl\x00http://10.1.2.3/\x00"})
	ev := tracer.NetEvent{Pid: 30, Syscall: "connect", Family: syscall.AF_INET, Addr: netip.MustParseAddrPort("10.1.2.3:80"), Errno: syscall.ENETUNREACH}
	rec.netEvent(ev)
	rec.netEvent(ev)
	rec.netEvent(tracer.NetEvent{Pid: 31, Syscall: "bind", Family: syscall.AF_INET6, Addr: netip.MustParseAddrPort("[::]:8080"),
		Allowed: true, Rewritten: netip.MustParseAddrPort("[::1]:8080")})
	var res Result
	rec.results(&res)
	want := []NetAttempt{
		{Pid: 30, Command: "curl http://10.1.2.3/", Syscall: "connect", Family: "inet", Address: "10.1.2.3:80", Errno: "ENETUNREACH", Count: 2},
		{Pid: 31, Syscall: "bind", Family: "inet6", Address: "[::]:8080", Allowed: true, Rewritten: "[::1]:8080", Count: 1},
	}
	if !reflect.DeepEqual(res.Network, want) {
		t.Errorf("network:\n%+v\nwant\n%+v", res.Network, want)
	}
}
