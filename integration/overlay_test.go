package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshot records (path, mode, size, mtime) of a few host trees so a test
// can prove a run changed nothing outside the stage.
func snapshot(t *testing.T, roots ...string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	for _, root := range roots {
		filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			snap[p] = fmt.Sprintf("%v %v %d", info.Mode(), info.ModTime(), info.Size())
			return nil
		})
	}
	return snap
}

func sameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range before {
		if after[p] != v {
			t.Errorf("host changed: %s: %q -> %q", p, v, after[p])
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("host gained %s", p)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStageReceivesWrites: an ordinary user "installs to /"; the host is
// untouched and the stage holds the files, visible to later runs.
func TestStageReceivesWrites(t *testing.T) {
	work := worldDir(t, "vroot-it-stage-")
	st := filepath.Join(work, "st")
	host := []string{"/usr/local", "/etc/hostname", "/etc/issue"}
	before := snapshot(t, host...)
	hostname := readFile(t, "/etc/hostname")

	script := strings.Join([]string{
		"set -e",
		"mkdir -p /usr/local/share/vroot-it/sub",
		"echo hello > /usr/local/share/vroot-it/sub/f",
		"cat /usr/local/share/vroot-it/sub/f",
		"ln -s sub/f /usr/local/share/vroot-it/link",
		"cat /usr/local/share/vroot-it/link",
		"echo extra >> /etc/hostname",
		"rm /etc/issue",
		"test ! -e /etc/issue",
		"ls /usr/local/share | grep -x vroot-it",
		"ls /etc | grep -x hostname",
		"! ls /etc | grep -x issue",
	}, "\n")
	r := vroot(t, work, "--stage", st, "--", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if r.stdout != "hello\nhello\nvroot-it\nhostname\n" {
		t.Fatalf("stdout %q", r.stdout)
	}
	if got := readFile(t, filepath.Join(st, "root/usr/local/share/vroot-it/sub/f")); got != "hello\n" {
		t.Fatalf("staged file: %q", got)
	}
	if got := readFile(t, filepath.Join(st, "root/etc/hostname")); got != hostname+"extra\n" {
		t.Fatalf("copied-up file: %q", got)
	}
	if target, err := os.Readlink(filepath.Join(st, "root/usr/local/share/vroot-it/link")); err != nil || target != "sub/f" {
		t.Fatalf("staged symlink: %q %v", target, err)
	}
	sameSnapshot(t, before, snapshot(t, host...))

	// A second run on the same stage sees the first one's world.
	r = vroot(t, work, "--stage", st, "--", "sh", "-c", "cat /usr/local/share/vroot-it/sub/f; tail -n1 /etc/hostname; cat /etc/issue 2>/dev/null || echo gone")
	if r.code != 0 || r.stdout != "hello\nextra\ngone\n" {
		t.Fatalf("second run: %d %q %q", r.code, r.stdout, r.stderr)
	}

	// vroot status lists what the stage holds.
	s := runIn(t, work, vrootBin, "status", st)
	for _, want := range []string{"A /usr/local/share/vroot-it/sub/f", "A /usr/local/share/vroot-it/link", "M /etc/hostname", "D /etc/issue"} {
		if !strings.Contains(s.stdout, want+"\n") {
			t.Errorf("status lacks %q:\n%s%s", want, s.stdout, s.stderr)
		}
	}
	if strings.Contains(s.stdout, "/usr/local\n") || strings.Contains(s.stdout, " /etc\n") {
		t.Errorf("status lists copied-up parents:\n%s", s.stdout)
	}
}

// TestStageInUseIsRefused: a second vroot on a busy stage fails cleanly.
func TestStageInUseIsRefused(t *testing.T) {
	work := worldDir(t, "vroot-it-lock-")
	st := filepath.Join(work, "st")
	argv := asUser(vrootBin, "--stage", st, "--", "sleep", "3")
	first := exec.Command(argv[0], argv[1:]...)
	first.Dir = work
	first.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + homeDir}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(st, ".vroot/lock")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first vroot never created its stage")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	r := vroot(t, work, "--stage", st, "--", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "in use") {
		t.Fatalf("second vroot: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStageIsInvisible: the build cannot see or write its own stage, even
// when the stage lies inside the granted build directory.
func TestStageIsInvisible(t *testing.T) {
	work := worldDir(t, "vroot-it-hide-")
	st := filepath.Join(work, "st")
	r := vroot(t, work, "--stage", st, "--", "sh", "-c", "ls "+st+" 2>&1 >/dev/null | grep -c 'No such file'; ls . ")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "1\n") || strings.Contains(r.stdout, "st\n") {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestRenameOfHostDirectory: a lower directory cannot be renamed (EXDEV,
// as overlayfs says), and mv falls back to copy and delete.
func TestRenameOfHostDirectory(t *testing.T) {
	work := worldDir(t, "vroot-it-mv-")
	st := filepath.Join(work, "st")
	before := snapshot(t, "/usr/share/zoneinfo/Europe")
	r := vroot(t, work, "--stage", st, "--", "sh", "-c",
		"mv /usr/share/zoneinfo/Europe /usr/share/zoneinfo/Moved && test -e /usr/share/zoneinfo/Moved/Paris && test ! -e /usr/share/zoneinfo/Europe && echo moved")
	if r.code != 0 || r.stdout != "moved\n" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	sameSnapshot(t, before, snapshot(t, "/usr/share/zoneinfo/Europe"))
}

// TestRenameAndLinkOfHostFiles: a host file renamed or hard-linked inside
// the guest is copied up; the old name is hidden, the link is a real hard
// link in the stage.
func TestRenameAndLinkOfHostFiles(t *testing.T) {
	work := worldDir(t, "vroot-it-mvf-")
	st := filepath.Join(work, "st")
	before := snapshot(t, "/etc/hostname", "/etc/issue.net")
	want := readFile(t, "/etc/hostname")
	r := vroot(t, work, "--stage", st, "--", "sh", "-c", `set -e
mv /etc/hostname /etc/hostname.moved
test ! -e /etc/hostname
cat /etc/hostname.moved
ln /etc/issue.net /etc/issue.link
test "$(stat -c %i /etc/issue.net)" = "$(stat -c %i /etc/issue.link)"
mv /etc/hostname.moved /etc/issue.link 2>/dev/null
cat /etc/issue.link`)
	if r.code != 0 || r.stdout != want+want {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	sameSnapshot(t, before, snapshot(t, "/etc/hostname", "/etc/issue.net"))
	s := runIn(t, work, vrootBin, "status", st)
	for _, w := range []string{"D /etc/hostname\n", "M /etc/issue.net\n", "A /etc/issue.link\n"} {
		if !strings.Contains(s.stdout, w) {
			t.Errorf("status lacks %q:\n%s", w, s.stdout)
		}
	}
}
