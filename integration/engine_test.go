package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// errnoTree builds the tree the errnos helper walks.
func errnoTree(t *testing.T) string {
	t.Helper()
	root := worldDir(t, "vroot-it-tree-")
	tree := filepath.Join(root, "tree")
	os.Mkdir(tree, 0o755)
	write(t, filepath.Join(tree, "file"), "content\n", 0o644)
	write(t, filepath.Join(tree, "dir/inner"), "inner\n", 0o644)
	os.MkdirAll(filepath.Join(tree, "dir/sub"), 0o755)
	symlink(t, "file", filepath.Join(tree, "link-file"))
	symlink(t, "dir", filepath.Join(tree, "link-dir"))
	symlink(t, "nowhere", filepath.Join(tree, "dangling"))
	symlink(t, "loop", filepath.Join(tree, "loop"))
	symlink(t, "dir/../file", filepath.Join(tree, "rel-dir"))
	symlink(t, filepath.Join(tree, "file"), filepath.Join(tree, "abs-file"))
	// chain40 is 40 links deep (allowed), chain41 is 41 (ELOOP).
	for _, n := range []int{40, 41} {
		prev := "file"
		for i := n - 1; i >= 1; i-- {
			name := fmt.Sprintf("c%d-%d", n, i)
			symlink(t, prev, filepath.Join(tree, name))
			prev = name
		}
		symlink(t, prev, filepath.Join(tree, fmt.Sprintf("chain%d", n)))
	}
	os.Mkdir(filepath.Join(tree, "noperm"), 0o755)
	write(t, filepath.Join(tree, "noperm/x"), "x", 0o644)
	os.Chmod(filepath.Join(tree, "noperm"), 0o000)
	return tree
}

// TestErrnosMatchNative compares every answer of the errnos helper run
// natively on a tree with the same run under vroot through --map.
func TestErrnosMatchNative(t *testing.T) {
	tree := errnoTree(t)
	guest := guestFor(t, tree)
	native := runIn(t, "/", bin("errnos"), tree)
	if native.code != 0 {
		t.Fatalf("native errnos: %d %s", native.code, native.stderr)
	}
	traced := vroot(t, "/", "--map", guest+"="+tree, "--", bin("errnos"), guest)
	if traced.code != 0 {
		t.Fatalf("vroot errnos: %d %s", traced.code, traced.stderr)
	}
	// Symlink contents are not translated: an absolute link into the tree
	// reads the same host path in both runs.
	nl := strings.Split(strings.ReplaceAll(native.stdout, tree, "BASE"), "\n")
	tl := strings.Split(strings.ReplaceAll(strings.ReplaceAll(traced.stdout, guest, "BASE"), tree, "BASE"), "\n")
	if len(nl) < 400 {
		t.Fatalf("native run printed only %d lines", len(nl))
	}
	if len(nl) != len(tl) {
		t.Fatalf("native printed %d lines, vroot %d", len(nl), len(tl))
	}
	bad := 0
	for i := range nl {
		if nl[i] != tl[i] {
			bad++
			if bad <= 40 {
				t.Errorf("native %q, vroot %q", short(nl[i]), short(tl[i]))
			}
		}
	}
	if !strings.Contains(native.stdout, "ENAMETOOLONG") || !strings.Contains(native.stdout, "ELOOP") {
		t.Fatalf("the tree does not exercise the limits:\n%s", native.stdout)
	}
	if os.Geteuid() == 0 && !strings.Contains(native.stdout, "EACCES") {
		t.Fatal("the unprivileged native run saw no EACCES")
	}
}

func short(s string) string {
	if len(s) > 120 {
		return s[:60] + "..." + s[len(s)-50:]
	}
	return s
}

// TestGuestViewOfCwdAndExe checks that everything the kernel hands back
// as a host path reaches the program as the guest path.
func TestGuestViewOfCwdAndExe(t *testing.T) {
	tree := errnoTree(t)
	guest := guestFor(t, tree)
	data, err := os.ReadFile(bin("cwd"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(tree, "cwd"), string(data), 0o755)
	r := vroot(t, "/", "--map", guest+"="+tree, "--", guest+"/cwd", guest)
	want := strings.Join([]string{
		"getcwd: " + guest,
		"proc-cwd: " + guest,
		"proc-exe: " + guest + "/cwd",
		"proc-fd: " + guest,
		"fchdir-getcwd: " + guest,
		"relative-read: content",
	}, "\n") + "\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d\ngot:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
}

// TestThreadsStayTranslated: a thread's chdir is seen by its siblings
// (shared fs), and a non-leader thread's execve is traced and translated.
func TestThreadsStayTranslated(t *testing.T) {
	tree := errnoTree(t)
	guest := guestFor(t, tree)
	cat, err := os.ReadFile("/bin/cat")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(tree, "cat"), string(cat), 0o755)
	r := vroot(t, "/", "--map", guest+"="+tree, "--", bin("threads"), guest, guest+"/cat", guest+"/dir/inner")
	want := "thread-chdir: content\ninner\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d stdout %q want %q stderr %q", r.code, r.stdout, want, r.stderr)
	}
}

func TestForkTree1000(t *testing.T) {
	tree := errnoTree(t)
	guest := guestFor(t, tree)
	r := vroot(t, "/", "--map", guest+"="+tree, "--", bin("forktree"), "1000", guest+"/file")
	if r.code != 0 || r.stdout != "forktree: ok\n" {
		t.Fatalf("exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestExitStatus(t *testing.T) {
	dir := worldDir(t, "vroot-it-exit-")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"true"}, 0},
		{[]string{"false"}, 1},
		{[]string{"sh", "-c", "exit 42"}, 42},
		{[]string{"sh", "-c", "kill -TERM $$"}, 143},
		{[]string{"sh", "-c", "kill -KILL $$"}, 137},
		{[]string{"vroot-no-such-command"}, 127},
		{[]string{"/etc/hostname"}, 126},
	} {
		r := vroot(t, dir, append([]string{"--"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", c.args, r.code, c.code, r.stderr)
		}
	}
}

// TestFailClosed: what vroot cannot translate never reaches the kernel.
func TestFailClosed(t *testing.T) {
	dir := worldDir(t, "vroot-it-fc-")
	write(t, filepath.Join(dir, "secret"), "s", 0o644)
	cases := []struct {
		args []string
		want string // a line the helper must print, or "" when it must die
		code int
	}{
		{[]string{"io_uring", "/"}, "io_uring_setup: ENOSYS\n", 0},
		{[]string{"mount", dir}, "mount: EPERM\n", 0},
		{[]string{"open_by_handle_at", "/"}, "open_by_handle_at: EPERM\n", 0},
		{[]string{"open", dir + "/secret"}, "open: ENOENT\n", 0},
		// A foreign ABI kills the process before the kernel runs the call
		// (on a kernel without IA-32 emulation, int 0x80 itself faults).
		{[]string{"int80", dir + "/secret"}, "", int80Death(t, dir)},
		{[]string{"x32", dir + "/secret"}, "", 128 + int(syscall.SIGSYS)},
	}
	for _, c := range cases {
		r := vroot(t, dir, append([]string{"-q", "--hide", dir + "/secret", "--", bin("hostile")}, c.args...)...)
		if r.stdout != c.want || r.code != c.code {
			t.Errorf("%v: exit %d stdout %q, want exit %d %q (stderr %q)", c.args, r.code, r.stdout, c.code, c.want, r.stderr)
		}
	}
}

// int80Death is how the int80 helper must die under vroot: SIGSYS from
// the filter, or the fault a kernel without IA-32 emulation gives natively.
func int80Death(t *testing.T, dir string) int {
	native := runIn(t, dir, bin("hostile"), "int80", "/etc/hostname")
	if native.code == 128+int(syscall.SIGSEGV) {
		return native.code
	}
	if native.stdout != "int80-open: ok\n" {
		t.Fatalf("native int80: %d %q", native.code, native.stdout)
	}
	return 128 + int(syscall.SIGSYS)
}

// TestCompileAgainstMappedHeader: cc finds a header only the SDK has.
func TestCompileAgainstMappedHeader(t *testing.T) {
	sdk := worldDir(t, "vroot-it-sdk-")
	write(t, filepath.Join(sdk, "include/sdkonly.h"), "#define SDK_MARKER 42\n", 0o644)
	work := worldDir(t, "vroot-it-work-")
	write(t, filepath.Join(work, "x.c"), "#include <sdkonly.h>\nint marker = SDK_MARKER;\n", 0o644)
	if r := runIn(t, work, "cc", "-c", "x.c", "-o", "native.o"); r.code == 0 {
		t.Fatal("the header is visible without vroot: the test proves nothing")
	}
	r := vroot(t, work, "--map", "/usr/include="+sdk+"/include", "--", "cc", "-c", "x.c", "-o", "x.o")
	if r.code != 0 {
		t.Fatalf("cc under vroot: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "x.o")); err != nil {
		t.Fatal(err)
	}
}

// TestKillingVrootKillsBuild: PTRACE_O_EXITKILL ends the build with vroot.
func TestKillingVrootKillsBuild(t *testing.T) {
	dir := worldDir(t, "vroot-it-kill-")
	marker := fmt.Sprintf("vroot-kill-marker-%d", time.Now().UnixNano())
	argv := asUser(vrootBin, "--", "sh", "-c", "exec -a "+marker+" sleep 60")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + homeDir}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-f", marker).Output()
		if len(strings.TrimSpace(string(out))) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the build never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Kill vroot itself (setpriv execs it, so the pid is vroot's).
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-f", marker).Output()
		if len(strings.TrimSpace(string(out))) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build survived vroot: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEveryWayToSpawn: vfork, posix_spawn and clone3 children are traced
// (their exec of a mapped path is translated) and their statuses are right.
func TestEveryWayToSpawn(t *testing.T) {
	tree := errnoTree(t)
	guest := guestFor(t, tree)
	write(t, filepath.Join(tree, "exit7"), "#!/bin/sh\nexit 7\n", 0o755)
	r := vroot(t, "/", "--map", guest+"="+tree, "--", bin("spawn"), guest+"/exit7")
	want := "vfork: exit 7\nposix_spawn: exit 7\nclone3: exit 7\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d stdout %q want %q stderr %q", r.code, r.stdout, want, r.stderr)
	}
}

// TestGroupStop: a build that stops itself and is continued by a child
// resumes (group-stop is kept with PTRACE_LISTEN, SIGCONT reaches it).
func TestGroupStop(t *testing.T) {
	dir := worldDir(t, "vroot-it-stop-")
	r := vroot(t, dir, "--", "sh", "-c", "(sleep 0.3; kill -CONT $$) & kill -STOP $$; echo resumed; wait")
	if r.code != 0 || r.stdout != "resumed\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestPtraceNotPermitted: where ptrace is refused (here: inside another
// vroot, whose filter refuses ptrace), vroot says so in one sentence with
// the fix, and exits 125.
func TestPtraceNotPermitted(t *testing.T) {
	dir := worldDir(t, "vroot-it-nested-")
	r := vroot(t, dir, "-q", "--", vrootBin, "-q", "--", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "ptrace is not permitted here") || !strings.Contains(r.stderr, "SYS_PTRACE") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}
