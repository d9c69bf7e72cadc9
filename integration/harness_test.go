// Package integration runs the vroot binary on real programs, as an
// unprivileged user: when the tests start as root, vroot and every native
// comparison run under setpriv as uid/gid 65534.
package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var (
	binDir   string // world-readable: vroot and the compiled helpers
	vrootBin string
	homeDir  string
)

const testUID = 65534

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	if code < 0 {
		code = m.Run()
	}
	os.RemoveAll(binDir)
	os.Exit(code)
}

func setup() (int, error) {
	var err error
	binDir, err = os.MkdirTemp("", "vroot-it-bin-")
	if err != nil {
		return 1, err
	}
	if err := os.Chmod(binDir, 0o755); err != nil {
		return 1, err
	}
	vrootBin = filepath.Join(binDir, "vroot")
	if out, err := exec.Command("go", "build", "-o", vrootBin, "../cmd/vroot").CombinedOutput(); err != nil {
		return 1, fmt.Errorf("go build: %v\n%s", err, out)
	}
	srcs, _ := filepath.Glob("testdata/*.c")
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		args := []string{"-Wall", "-O1", "-o", filepath.Join(binDir, name), src}
		if name == "threads" || strings.HasPrefix(name, "hostile_") {
			args = append(args, "-pthread")
		}
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return 1, fmt.Errorf("gcc %s: %v\n%s", src, err, out)
		}
	}
	homeDir = filepath.Join(binDir, "home")
	if err := os.Mkdir(homeDir, 0o777); err != nil {
		return 1, err
	}
	os.Chmod(homeDir, 0o777)
	return -1, nil
}

func bin(name string) string { return filepath.Join(binDir, name) }

// asUser wraps argv so that it runs unprivileged when the tests run as
// root.
func asUser(argv ...string) []string {
	if os.Geteuid() != 0 {
		return argv
	}
	return append([]string{"setpriv", fmt.Sprintf("--reuid=%d", testUID), fmt.Sprintf("--regid=%d", testUID), "--clear-groups"}, argv...)
}

type result struct {
	code   int
	stdout string
	stderr string
}

func runIn(t *testing.T, dir string, argv ...string) result {
	t.Helper()
	argv = asUser(argv...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + homeDir, "LC_ALL=C", "TMPDIR=/tmp"}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%q: %v", argv, err)
		}
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	return result{code: code, stdout: o.String(), stderr: e.String()}
}

// vroot runs the vroot binary with args from a world-readable directory.
func vroot(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runIn(t, dir, append([]string{vrootBin}, args...)...)
}

// worldDir makes a directory the unprivileged user can use.
func worldDir(t *testing.T, pattern string) string {
	t.Helper()
	d, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o777)
	t.Cleanup(func() {
		// A test may leave unsearchable dirs behind.
		filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(d)
	})
	return d
}

func write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// guestFor returns a guest path of the same length as host that does not
// exist on the host, so that length limits fall at the same place.
func guestFor(t *testing.T, host string) string {
	t.Helper()
	if len(host) < 6 {
		t.Fatalf("host path too short: %s", host)
	}
	g := "/vrg" + strings.Repeat("x", len(host)-4)
	if _, err := os.Lstat(g); err == nil {
		t.Fatalf("guest path %s exists on the host", g)
	}
	return g
}
