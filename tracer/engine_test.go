package tracer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vroot-dev/vroot/redirect"
)

func TestMain(m *testing.M) {
	MaybeInit()
	if h := os.Getenv("VROOT_TEST_HELPER"); h != "" {
		os.Exit(helperMain(h, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// prefixResolver is a minimal Resolver for testing the mechanism alone:
// guest paths under From are served from To, paths under Deny fail.
type prefixResolver struct {
	from, to string
	deny     string
	mu       sync.Mutex
	seen     []string
}

func under(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

func (r *prefixResolver) Resolve(req redirect.Request) redirect.Answer {
	p := path.Clean(req.Path)
	r.mu.Lock()
	r.seen = append(r.seen, p)
	r.mu.Unlock()
	if strings.HasPrefix(p, "/proc/self") {
		p = fmt.Sprintf("/proc/%d", req.Pid) + p[len("/proc/self"):]
	}
	if r.deny != "" && under(p, r.deny) {
		return redirect.Answer{Errno: syscall.ENOENT, Guest: p}
	}
	host := p
	if under(p, r.from) {
		host = r.to + p[len(r.from):]
	}
	if strings.HasSuffix(req.Path, "/") && host != "/" {
		host += "/"
	}
	return redirect.Answer{Host: host, Guest: p}
}

func (r *prefixResolver) GuestPath(host string) (string, bool) {
	if under(host, r.to) {
		return r.from + host[len(r.to):], true
	}
	return host, true
}

func (r *prefixResolver) Invalidate(string) {}

type runResult struct {
	exit   Exit
	stdout string
	stderr string
}

func runTraced(t *testing.T, res Resolver, dir string, args ...string) runResult {
	t.Helper()
	return runTracedEnv(t, res, dir, nil, args...)
}

func runTracedEnv(t *testing.T, res Resolver, dir string, env []string, args ...string) runResult {
	t.Helper()
	outf, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	errf, err := os.CreateTemp(t.TempDir(), "err")
	if err != nil {
		t.Fatal(err)
	}
	defer outf.Close()
	defer errf.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if env == nil {
		env = os.Environ()
	}
	ex, err := Run(ctx, Config{Args: args, Env: env, Dir: dir, Stdout: outf, Stderr: errf, Resolver: res})
	if err != nil {
		t.Fatalf("Run(%q): %v", args, err)
	}
	o, _ := os.ReadFile(outf.Name())
	e, _ := os.ReadFile(errf.Name())
	return runResult{exit: ex, stdout: string(o), stderr: string(e)}
}

// helperSelf runs this test binary as a helper program under the tracer.
func helperArgs(name string, args ...string) ([]string, []string) {
	env := append(os.Environ(), "VROOT_TEST_HELPER="+name)
	return append([]string{os.Args[0]}, args...), env
}

func TestExitCodes(t *testing.T) {
	res := &prefixResolver{from: "/vroot-test-none", to: "/nonexistent"}
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		sig  syscall.Signal
	}{
		{"true", []string{"true"}, 0, 0},
		{"false", []string{"false"}, 1, 0},
		{"exit42", []string{"sh", "-c", "exit 42"}, 42, 0},
		{"sigterm", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15, syscall.SIGTERM},
		{"sigkill", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9, syscall.SIGKILL},
		{"notfound", []string{"vroot-no-such-command"}, 127, 0},
		{"notexec", []string{noexec}, 126, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runTraced(t, res, dir, c.args...)
			if r.exit.Code != c.code || r.exit.Signal != c.sig {
				t.Fatalf("exit = %+v, want code %d signal %v; stderr %q", r.exit, c.code, c.sig, r.stderr)
			}
		})
	}
}

func TestMapRedirectsReads(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "hello"), []byte("from the map\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := &prefixResolver{from: "/vroot-test-map", to: host}
	r := runTraced(t, res, "/", "cat", "/vroot-test-map/hello")
	if r.exit.Code != 0 || r.stdout != "from the map\n" {
		t.Fatalf("cat: %+v %q %q", r.exit, r.stdout, r.stderr)
	}
	// Relative to a guest cwd inside the map, and getcwd shows the guest.
	r = runTraced(t, res, "/", "sh", "-c", "cd /vroot-test-map && cat hello && pwd -P && readlink /proc/self/cwd")
	want := "from the map\n/vroot-test-map\n/vroot-test-map\n"
	if r.exit.Code != 0 || r.stdout != want {
		t.Fatalf("cd+cat: %+v stdout %q want %q; stderr %q", r.exit, r.stdout, want, r.stderr)
	}
	// The command's own start directory is a guest path too.
	r = runTraced(t, res, "/vroot-test-map", "sh", "-c", "cat ./hello; /bin/pwd -P")
	if r.stdout != "from the map\n/vroot-test-map\n" {
		t.Fatalf("dir: %q %q", r.stdout, r.stderr)
	}
}

func TestDenyGivesErrno(t *testing.T) {
	res := &prefixResolver{from: "/vroot-test-map", to: t.TempDir(), deny: "/etc"}
	args, env := helperArgs("stat", "/etc/passwd", "/etc", "/")
	r := runTracedEnv(t, res, "/", env, args...)
	want := "/etc/passwd: no such file or directory\n/etc: no such file or directory\n/: ok\n"
	if r.stdout != want {
		t.Fatalf("stdout %q want %q (stderr %q)", r.stdout, want, r.stderr)
	}
}

func TestForkTreeAndThreads(t *testing.T) {
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "f"), []byte("x"), 0o644)
	res := &prefixResolver{from: "/vroot-test-map", to: host}
	// 200 processes, each reading through the map.
	script := `i=0; while [ $i -lt 200 ]; do (cat /vroot-test-map/f >/dev/null || echo FAIL) & i=$((i+1)); done; wait; echo done`
	r := runTraced(t, res, "/", "sh", "-c", script)
	if r.exit.Code != 0 || r.stdout != "done\n" {
		t.Fatalf("fork tree: %+v %q %q", r.exit, r.stdout, r.stderr)
	}
	args, env := helperArgs("threads", "/vroot-test-map/f")
	r = runTracedEnv(t, res, "/", env, args...)
	if r.exit.Code != 0 || r.stdout != "threads ok\n" {
		t.Fatalf("threads: %+v %q %q", r.exit, r.stdout, r.stderr)
	}
}

func TestCancelKillsTree(t *testing.T) {
	res := &prefixResolver{from: "/vroot-test-map", to: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	start := time.Now()
	// A duration no other process on the machine uses, to find ours.
	dur := fmt.Sprintf("30.%09d", time.Now().Nanosecond())
	ex, err := Run(ctx, Config{Args: []string{"sh", "-c", "trap '' INT TERM; sleep " + dur + " & sleep " + dur + "; wait"}, Dir: "/", Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Signal != syscall.SIGKILL {
		t.Fatalf("exit %+v after %v, want SIGKILL", ex, time.Since(start))
	}
	if out, _ := exec.Command("pgrep", "-f", "sleep "+dur).Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("processes survived: %s", out)
	}
}

// helperMain implements the helper programs the tests run under the tracer.
func helperMain(name string, args []string) int {
	switch name {
	case "openat2":
		return openat2Helper(args)
	case "statloop":
		return statLoop(args)
	case "stat":
		for _, a := range args {
			if _, err := os.Stat(a); err != nil {
				fmt.Printf("%s: %v\n", a, err.(*os.PathError).Err)
			} else {
				fmt.Printf("%s: ok\n", a)
			}
		}
		return 0
	case "threads":
		var wg sync.WaitGroup
		var failed sync.Once
		ok := true
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 20; j++ {
					if _, err := os.ReadFile(args[0]); err != nil {
						failed.Do(func() { ok = false; fmt.Println(err) })
					}
				}
			}()
		}
		wg.Wait()
		if ok {
			fmt.Println("threads ok")
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper", name)
	return 2
}

func (r *prefixResolver) Commit(redirect.Answer, bool) {}

func (r *prefixResolver) ResolveRename(a, b redirect.Request) (redirect.Answer, redirect.Answer) {
	return r.Resolve(a), r.Resolve(b)
}

func (r *prefixResolver) ResolveLink(a, b redirect.Request) (redirect.Answer, redirect.Answer) {
	return r.Resolve(a), r.Resolve(b)
}
