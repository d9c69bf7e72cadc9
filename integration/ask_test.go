package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
)

// askWorld is a build tree with an ask rule on its secret directory:
// secret/a.txt, secret/b.txt, secret/sub/x.txt, secret/sub/y.txt, each
// holding "content of NAME"; and a stage apart from it.
type askWorld struct {
	work, secret, stage string
	before              map[string]string
}

func newAskWorld(t *testing.T) *askWorld {
	t.Helper()
	w := &askWorld{work: worldDir(t, "vroot-it-ask-")}
	w.secret = filepath.Join(w.work, "secret")
	for _, n := range []string{"a.txt", "b.txt", "sub/x.txt", "sub/y.txt"} {
		write(t, filepath.Join(w.secret, n), "content of "+n+"\n", 0o644)
	}
	os.Chmod(filepath.Join(w.secret, "sub"), 0o755)
	os.Chmod(w.secret, 0o755)
	w.stage = filepath.Join(worldDir(t, "vroot-it-askst-"), "st")
	w.before = snapshot(t, w.work)
	return w
}

// catEach is the build: cat each file in turn, going on after a failure.
func catEach(files ...string) []string {
	return append([]string{"sh", "-c", `for f in "$@"; do cat "$f"; done; true`, "sh"}, files...)
}

// run runs vroot with the ask rule, the flags, and the build, in a new
// session: without a controlling terminal, whatever the tests run in, so
// that no question can reach the developer's terminal.
func (w *askWorld) run(t *testing.T, flags []string, files ...string) result {
	t.Helper()
	args := append([]string{vrootBin, "--stage", w.stage, "--ask", "secret"}, flags...)
	argv := asUser(append(append(args, "--"), catEach(files...)...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = w.work
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + homeDir, "LC_ALL=C", "TMPDIR=/tmp"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%q: %v", argv, err)
	}
	return result{code: code, stdout: o.String(), stderr: e.String()}
}

// saw checks which files the build read and which it was refused with
// EACCES, then that the host is unchanged.
func (w *askWorld) saw(t *testing.T, r result, read, refused []string) {
	t.Helper()
	if r.code != 0 {
		// The build ends with true: anything else is vroot's failure.
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	for _, f := range read {
		if !strings.Contains(r.stdout, "content of "+strings.TrimPrefix(f, "secret/")+"\n") {
			t.Errorf("%s not read; stdout %q stderr %q", f, r.stdout, r.stderr)
		}
	}
	for _, f := range refused {
		if strings.Contains(r.stdout, "content of "+strings.TrimPrefix(f, "secret/")+"\n") {
			t.Errorf("%s read, want EACCES", f)
		}
		if !strings.Contains(r.stderr, "cat: "+f+": Permission denied") {
			t.Errorf("%s: no EACCES; stderr %q", f, r.stderr)
		}
	}
	sameSnapshot(t, w.before, snapshot(t, w.work))
}

func TestAskFixedAndExecHandlers(t *testing.T) {
	w := newAskWorld(t)
	files := []string{"secret/a.txt", "secret/b.txt", "secret/sub/x.txt"}

	r := w.run(t, []string{"--ask-with", "deny"}, files...)
	w.saw(t, r, nil, files)
	if !strings.Contains(r.stderr, "vroot: ask: deny read "+w.secret+" (pid ") {
		t.Errorf("denial not reported: %q", r.stderr)
	}
	// No --ask-with and no terminal to prompt on: deny.
	r = w.run(t, nil, files...)
	w.saw(t, r, nil, files)
	if !strings.Contains(r.stderr, "handler deny)") {
		t.Errorf("default handler: %q", r.stderr)
	}

	r = w.run(t, []string{"--ask-with", "grant"}, files...)
	w.saw(t, r, files, nil)

	// A shell policy: b.txt is refused, the rest allowed; it also logs
	// the JSON request it was given.
	log := filepath.Join(worldDir(t, "vroot-it-asklog-"), "log")
	policy := `exec:cat >> ` + log + `; case "$VROOT_ASK_PATH" in */b.txt) exit 1;; esac`
	r = w.run(t, []string{"--ask-with", policy}, files...)
	w.saw(t, r, []string{"secret/a.txt", "secret/sub/x.txt"}, []string{"secret/b.txt"})
	var reqs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, log)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("policy got %q: %v", l, err)
		}
		reqs = append(reqs, m)
	}
	// Each path once (answers are cached): the directory, then the files.
	var paths []string
	for _, m := range reqs {
		paths = append(paths, strings.TrimPrefix(m["path"].(string), w.work+"/"))
		if m["op"] != "read" || m["rule"] != w.secret || m["pid"].(float64) <= 0 || !strings.HasPrefix(m["command"].(string), "cat ") {
			t.Errorf("request %v", m)
		}
	}
	if strings.Join(paths, " ") != "secret secret/a.txt secret/b.txt secret/sub secret/sub/x.txt" {
		t.Errorf("policy asked for %v", paths)
	}

	// A policy that fails gives the default, and says why.
	r = w.run(t, []string{"--ask-with", "exec:exit 3", "--ask-default", "allow"}, "secret/a.txt")
	w.saw(t, r, []string{"secret/a.txt"}, nil)
	if !strings.Contains(r.stderr, "failed: exec \"exit 3\": exit status 3") {
		t.Errorf("failure not reported: %q", r.stderr)
	}
}

// askPeer is a socket-protocol peer: reply gets each request and returns
// the line to send back ("" sends nothing, "CLOSE" hangs up).
type askPeer struct {
	path string
	mu   sync.Mutex
	seen []map[string]any
}

func newAskPeer(t *testing.T, reply func(req map[string]any) string) *askPeer {
	t.Helper()
	p := &askPeer{path: filepath.Join(worldDir(t, "vroot-it-asksock-"), "ask.sock")}
	l, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(p.path, 0o777)
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
					var req map[string]any
					if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
						return
					}
					p.mu.Lock()
					p.seen = append(p.seen, req)
					p.mu.Unlock()
					out := reply(req)
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

func (p *askPeer) paths(work string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.seen {
		out = append(out, strings.TrimPrefix(m["path"].(string), work+"/"))
	}
	return out
}

func replyLine(req map[string]any, answer, extra string) string {
	b, _ := json.Marshal(map[string]any{"id": req["id"], "answer": answer})
	if extra != "" {
		return strings.TrimSuffix(string(b), "}") + "," + extra + "}"
	}
	return string(b)
}

func TestAskSocketPeer(t *testing.T) {
	w := newAskWorld(t)
	// A peer that answers correctly: b.txt denied; secret/sub allowed
	// with scope prefix, so the files below it are not asked about.
	p := newAskPeer(t, func(req map[string]any) string {
		switch {
		case strings.HasSuffix(req["path"].(string), "/b.txt"):
			return replyLine(req, "deny", "")
		case strings.HasSuffix(req["path"].(string), "/sub"):
			return replyLine(req, "allow", `"scope":"prefix"`)
		}
		return replyLine(req, "allow", "")
	})
	files := []string{"secret/a.txt", "secret/b.txt", "secret/sub/x.txt", "secret/sub/y.txt"}
	r := w.run(t, []string{"--ask-with", "socket:" + p.path}, files...)
	w.saw(t, r, []string{"secret/a.txt", "secret/sub/x.txt", "secret/sub/y.txt"}, []string{"secret/b.txt"})
	if got := strings.Join(p.paths(w.work), " "); got != "secret secret/a.txt secret/b.txt secret/sub" {
		t.Errorf("peer asked for %s", got)
	}
	for i, m := range p.seen {
		if m["id"].(float64) != float64(i+1) || m["op"] != "read" || m["rule"] != w.secret {
			t.Errorf("request %d: %v", i, m)
		}
	}
}

func TestAskSocketPeerFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply func(req map[string]any) string
		def   string // --ask-default
		err   string // reported
		// --ask-timeout: short only where no answer can come in time, so
		// that a loaded machine cannot turn an answer into a timeout.
		timeout string
	}{
		// Too slow: it would deny, but the default (allow) applies.
		{"slow", func(req map[string]any) string {
			time.Sleep(20 * time.Second)
			return replyLine(req, "deny", "")
		}, "allow", "no answer within 300ms", "300ms"},
		// Says "allow" in malformed JSON: the default (deny) applies.
		{"malformed", func(req map[string]any) string { return `{"id": 1, "answer": allow}` }, "deny", "malformed reply", "30s"},
		// Hangs up without a word.
		{"closed", func(req map[string]any) string { return "CLOSE" }, "allow", "closed the connection", "30s"},
		{"closed, deny", func(req map[string]any) string { return "CLOSE" }, "deny", "closed the connection", "30s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newAskWorld(t)
			p := newAskPeer(t, tc.reply)
			r := w.run(t, []string{"--ask-with", "socket:" + p.path, "--ask-timeout", tc.timeout, "--ask-default", tc.def}, "secret/a.txt")
			if tc.def == "allow" {
				w.saw(t, r, []string{"secret/a.txt"}, nil)
			} else {
				w.saw(t, r, nil, []string{"secret/a.txt"})
			}
			want := "vroot: ask: " + tc.def + " read " + w.secret + " (pid "
			if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, tc.err) || !strings.Contains(r.stderr, "; default "+tc.def+")") {
				t.Errorf("stderr %q, want %q and %q", r.stderr, want, tc.err)
			}
			if len(p.paths(w.work)) == 0 {
				t.Error("the peer was never asked")
			}
		})
	}
	// A peer that never answers: three questions time out, then vroot
	// stops asking it; every path still gets the default (allow).
	w0 := newAskWorld(t)
	silent := newAskPeer(t, func(req map[string]any) string { return "" })
	files := []string{"secret/a.txt", "secret/b.txt", "secret/sub/x.txt", "secret/sub/y.txt"}
	r0 := w0.run(t, []string{"--ask-with", "socket:" + silent.path, "--ask-timeout", "200ms", "--ask-default", "allow"}, files...)
	w0.saw(t, r0, files, nil)
	// (Normally about each of the first three paths; a question that
	// waited its whole timeout for the previous call to let go of the
	// connection is a timeout too, without reaching the peer.)
	asked := silent.paths(w0.work)
	for _, p := range asked {
		if p != "secret" && p != "secret/a.txt" && p != "secret/b.txt" {
			t.Errorf("silent peer asked for %s after three timeouts: %v", p, asked)
		}
	}
	if len(asked) == 0 || len(asked) > 3 {
		t.Errorf("silent peer asked for %v", asked)
	}
	if n := strings.Count(r0.stderr, "no answer within 200ms"); n != 3 {
		t.Errorf("%d timeouts reported, want 3: %q", n, r0.stderr)
	}
	if n := strings.Count(r0.stderr, "handler not asked: 3 questions in a row timed out"); n != 3 {
		t.Errorf("%d paths not asked, want 3 (sub, x.txt, y.txt): %q", n, r0.stderr)
	}

	// No peer at all: nothing listens on the path.
	w := newAskWorld(t)
	r := w.run(t, []string{"--ask-with", "socket:" + filepath.Join(w.work, "none.sock")}, "secret/a.txt")
	w.saw(t, r, nil, []string{"secret/a.txt"})
	if !strings.Contains(r.stderr, "connect") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// ptyRun is vroot running with a pseudo-terminal as its controlling
// terminal and the build's standard streams.
type ptyRun struct {
	t      *testing.T
	m      *os.File
	cmd    *exec.Cmd
	exited chan error
	mu     sync.Mutex
	screen bytes.Buffer
}

func startOnPTY(t *testing.T, dir string, args ...string) *ptyRun {
	t.Helper()
	m, slavePath, err := linux.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	argv := asUser(append([]string{vrootBin}, args...)...)
	p := &ptyRun{t: t, m: m, cmd: exec.Command(argv[0], argv[1:]...), exited: make(chan error, 1)}
	p.cmd.Dir = dir
	p.cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + homeDir, "LC_ALL=C", "TMPDIR=/tmp"}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = slave, slave, slave
	// A new session whose controlling terminal is the pty (fd 0), with
	// vroot's process group in the foreground.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
		}
	})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.screen.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

// text is what the terminal showed so far, with "\r\n" as "\n".
func (p *ptyRun) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.ReplaceAll(p.screen.String(), "\r\n", "\n")
}

func (p *ptyRun) waitFor(s string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.text(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q on the terminal: %q", s, p.text())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for vroot to exit and returns its exit code.
func (p *ptyRun) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(30 * time.Second):
		p.t.Fatal("vroot did not finish")
	}
	return -1
}

// TestAskTTY drives the tty handler through a pseudo-terminal that is
// vroot's controlling terminal, and the build's terminal too: its output
// and the questions share the screen.
func TestAskTTY(t *testing.T) {
	w := newAskWorld(t)
	files := []string{"secret/a.txt", "secret/b.txt", "secret/sub/x.txt", "secret/sub/y.txt"}
	// No --ask-with: with a terminal, the default is to prompt on it.
	p := startOnPTY(t, w.work, append([]string{"--stage", w.stage, "--ask", "secret", "--"}, catEach(files...)...)...)
	// The directory once, a.txt denied, b.txt allowed once, then sub
	// allowed always: x.txt and y.txt are not asked about.
	for _, step := range []struct{ path, key string }{
		{w.secret, "y"},
		{w.secret + "/a.txt", "n"},
		{w.secret + "/b.txt", "y"},
		{w.secret + "/sub", "a"},
	} {
		p.waitFor("read " + step.path + "? [y]es once")
		p.m.Write([]byte(step.key))
	}
	if code := p.wait(); code != 0 {
		t.Errorf("exit %d", code)
	}
	p.waitFor("vroot: exit 0")
	out := p.text()
	if strings.Contains(out, "read "+w.secret+"/sub/x.txt?") {
		t.Errorf("asked below an allowed-always directory: %q", out)
	}
	if !strings.Contains(out, "pid ") || !strings.Contains(out, "(cat secret/a.txt)") {
		t.Errorf("prompt without the process: %q", out)
	}
	r := result{stdout: out, stderr: out}
	w.saw(t, r, []string{"secret/b.txt", "secret/sub/x.txt", "secret/sub/y.txt"}, []string{"secret/a.txt"})
	for _, note := range []string{"allowed once: read " + w.secret + "/b.txt", "denied once: read " + w.secret + "/a.txt", "allowed always: read " + w.secret + "/sub"} {
		if !strings.Contains(out, note) {
			t.Errorf("no %q on the terminal", note)
		}
	}
}

// TestAskTTYInterrupt: ^C at a question denies, then interrupts the build
// as it would have without the question.
func TestAskTTYInterrupt(t *testing.T) {
	w := newAskWorld(t)
	p := startOnPTY(t, w.work, "--stage", w.stage, "--ask", "secret", "--",
		"sh", "-c", "cat secret/a.txt; echo still running")
	p.waitFor("read " + w.secret + "? [y]es once")
	p.m.Write([]byte{3})
	if code := p.wait(); code != 128+int(syscall.SIGINT) {
		t.Errorf("exit %d, want %d; terminal: %q", code, 128+int(syscall.SIGINT), p.text())
	}
	out := p.text()
	if !strings.Contains(out, "denied once: read "+w.secret) || strings.Contains(out, "still running") || strings.Contains(out, "content of") {
		t.Errorf("terminal: %q", out)
	}
	sameSnapshot(t, w.before, snapshot(t, w.work))
}

// TestAskGoCallback runs a program that embeds vroot and decides asks with
// a Go callback (Config.Ask).
func TestAskGoCallback(t *testing.T) {
	api := bin("askapi")
	if out, err := exec.Command("go", "build", "-o", api, "./testdata/askapi").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	w := newAskWorld(t)
	recs := filepath.Join(worldDir(t, "vroot-it-askrec-"), "asks.json")
	r := runIn(t, w.work, append([]string{api, w.secret, "b.txt", recs, "--"}, catEach("secret/a.txt", "secret/b.txt")...)...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	w.saw(t, r, []string{"secret/a.txt"}, []string{"secret/b.txt"})
	var got struct {
		Seen []struct {
			Pid  int
			Op   string
			Path string
		} `json:"seen"`
		Asks []struct {
			Path, Answer, Handler string
			Pid                   int
		} `json:"asks"`
	}
	if err := json.Unmarshal([]byte(readFile(t, recs)), &got); err != nil {
		t.Fatal(err)
	}
	var asks []string
	for _, a := range got.Asks {
		asks = append(asks, strings.TrimPrefix(a.Path, w.work+"/")+"="+a.Answer+"/"+a.Handler)
	}
	if strings.Join(asks, " ") != "secret=allow/func secret/a.txt=allow/func secret/b.txt=deny/func" {
		t.Errorf("Result.Asks: %v", asks)
	}
	if len(got.Seen) != 3 || got.Seen[1].Pid <= 0 || got.Seen[1].Op != "read" {
		t.Errorf("the callback saw %+v", got.Seen)
	}
}
