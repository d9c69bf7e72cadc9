package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vroot-dev/vroot/redirect"
)

const fakerootDest = "/opt/vroot-fakeroot-test"

// needSetcap returns setcap's path; in CI (libcap2-bin) it must exist.
func needSetcap(t *testing.T) string {
	t.Helper()
	const p = "/usr/sbin/setcap"
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: install libcap2-bin", p)
		}
		t.Skipf("%s is missing (libcap2-bin)", p)
	}
	return p
}

// fakerootWork is a build tree with the fixture's Makefile.
func fakerootWork(t *testing.T) (work, stage string) {
	t.Helper()
	work = worldDir(t, "vroot-it-fakeroot-")
	write(t, filepath.Join(work, "Makefile"), readFile(t, "testdata/fakeroot/Makefile"), 0o644)
	if _, err := os.Lstat(fakerootDest); err == nil {
		t.Fatalf("%s exists on the host", fakerootDest)
	}
	return work, filepath.Join(work, "stage")
}

// TestFakerootInstall: an ordinary user's "make install" under --fakeroot
// sets owners, setuid/setgid/sticky bits, device nodes, a file capability
// and a hard link; a second run's stat shows exactly them, the stage's
// metadata store holds them for the packer, and the host is unchanged.
func TestFakerootInstall(t *testing.T) {
	setcap := needSetcap(t)
	work, st := fakerootWork(t)
	host := []string{"/opt", "/etc/passwd"}
	before := snapshot(t, host...)

	r := vroot(t, work, "--fakeroot", "--stage", st, "--", "make", "install", "SETCAP="+setcap)
	if r.code != 0 {
		t.Fatalf("make install: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	script := "cd " + fakerootDest + " && stat -c '%n %u:%g %a %F %t:%T %h' bin bin/* dev/* srv srv/* tmp && /usr/sbin/getcap bin/ping && id -u && id -g && id -un"
	r = vroot(t, work, "--fakeroot", "--stage", st, "--", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("stat: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	want := strings.Join([]string{
		"bin 0:0 755 directory 0:0 2",
		"bin/ping 0:0 755 regular file 0:0 1",
		"bin/prog 0:60 2755 regular file 0:0 2",
		"bin/prog-link 0:60 2755 regular file 0:0 2",
		"bin/su 0:0 4755 regular file 0:0 1",
		"dev/null 0:0 644 character special file 1:3 1",
		"dev/sda 0:0 660 block special file 8:0 1",
		"srv 65534:60 755 directory 0:0 2",
		"srv/data 65534:0 644 regular file 0:0 1",
		"tmp 0:0 1777 directory 0:0 2",
		"bin/ping cap_net_raw=ep",
		"0", "0", "root",
	}, "\n") + "\n"
	if r.stdout != want {
		t.Errorf("stat under --fakeroot:\n%s\nwant:\n%s", r.stdout, want)
	}

	// Without --fakeroot the same stage shows what the user really owns.
	r = vroot(t, work, "--stage", st, "--", "sh", "-c", "stat -c '%u %a %F' "+fakerootDest+"/bin/su "+fakerootDest+"/dev/null; id -u")
	if want := "65534 755 regular file\n65534 644 regular empty file\n65534\n"; os.Geteuid() == 0 && r.stdout != want {
		t.Errorf("without --fakeroot: %q, want %q (stderr %s)", r.stdout, want, r.stderr)
	}

	// The staged files themselves carry no privilege.
	filepath.Walk(filepath.Join(st, "root"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky|os.ModeDevice) != 0 {
			t.Errorf("staged %s has mode %v", p, fi.Mode())
		}
		return nil
	})
	sameSnapshot(t, before, snapshot(t, host...))

	// What the packer reads.
	s, err := redirect.OpenStage(st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	attr := func(g string) redirect.Attr {
		t.Helper()
		fi, err := os.Lstat(filepath.Join(s.Root(), g))
		if err != nil {
			t.Fatal(err)
		}
		a, ok := s.Attr(fi)
		if !ok {
			t.Fatalf("%s: no record", g)
		}
		return a
	}
	if a := attr(fakerootDest + "/dev/null"); a.Mode != syscall.S_IFCHR|0o644 || a.Rdev != 0x103 {
		t.Errorf("dev/null: %+v", a)
	}
	if a := attr(fakerootDest + "/bin/prog-link"); a.Mode != syscall.S_IFREG|0o2755 || a.Uid != 0 || a.Gid != 60 {
		t.Errorf("prog-link: %+v", a)
	}
	if a := attr(fakerootDest + "/bin/ping"); len(a.Xattrs["security.capability"]) == 0 {
		t.Errorf("ping: no security.capability: %+v", a)
	}
}

// TestFakerootIdentity: the ids report root, the set*id calls succeed,
// chown outside the stage (a granted path) pretends success, changes
// nothing and reports the file's real owner, and fails on a missing file.
func TestFakerootIdentity(t *testing.T) {
	work, st := fakerootWork(t)
	mine := filepath.Join(work, "mine")
	write(t, mine, "x", 0o644)
	uid := os.Getuid()
	if uid == 0 {
		uid = testUID
		os.Chown(mine, testUID, testUID)
	}
	before := snapshot(t, mine)
	r := vroot(t, work, "--fakeroot", "--stage", st, "--", "sh", "-c",
		"id -u; id -g; id -ru; chown 0:0 mine && echo chowned; stat -c %u mine; chown 0 missing 2>/dev/null || echo missing")
	if want := fmt.Sprintf("0\n0\n0\nchowned\n%d\nmissing\n", uid); r.stdout != want || r.code != 0 {
		t.Fatalf("exit %d stdout %q, want %q (stderr %s)", r.code, r.stdout, want, r.stderr)
	}
	sameSnapshot(t, before, snapshot(t, mine))
	fi, err := os.Stat(mine)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Sys().(*syscall.Stat_t).Uid; int(got) != uid {
		t.Errorf("the host file's owner changed: %d", got)
	}
}

// TestFakerootCrash: vroot is SIGKILLed during a make that chowns file
// after file; every chown that returned to the build (listed in done.txt,
// on the host) is there when the stage is opened again.
func TestFakerootCrash(t *testing.T) {
	work, st := fakerootWork(t)
	argv := asUser(vrootBin, "--fakeroot", "--stage", st, "--", "make", "many")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = work
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + homeDir, "LC_ALL=C", "TMPDIR=/tmp"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := filepath.Join(work, "done.txt")
	// Wait for some progress; the bound only keeps a broken build from
	// hanging the test.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(done); err == nil && strings.Count(string(b), "\n") >= 30 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("make many made no progress")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	f, err := os.Open(done)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		names = append(names, sc.Text())
	}
	f.Close()
	if len(names) < 30 {
		t.Fatalf("done.txt: %d names", len(names))
	}
	// The run may have been killed before every tracee died: wait for
	// the stage's lock, as a user rerunning would.
	var r result
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		r = vroot(t, work, "--fakeroot", "--stage", st, "--", "sh", "-c", "cd "+fakerootDest+"/many && stat -c '%n %U:%G' *")
		if !strings.Contains(r.stderr, "in use") || time.Now().After(deadline) {
			break
		}
	}
	if r.code != 0 {
		t.Fatalf("rerun: exit %d\nstderr %s", r.code, r.stderr)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		n, owner, _ := strings.Cut(line, " ")
		got[n] = owner
	}
	for _, p := range names {
		if o := got[filepath.Base(p)]; o != "games:nogroup" {
			t.Errorf("%s: owner %q after the crash, want games:nogroup", p, o)
		}
	}
	// An unfinished last file (created, not yet chowned) is root's.
	for n, o := range got {
		if o != "games:nogroup" && o != "root:root" {
			t.Errorf("%s: owner %q", n, o)
		}
	}
}

// TestFakerootRecordFollowsFile: a record follows rename and link, stays
// while a link is left, is replaced by a rename over its name, and is
// dropped with the last link.
func TestFakerootRecordFollowsFile(t *testing.T) {
	work, st := fakerootWork(t)
	d := fakerootDest
	script := strings.Join([]string{
		"set -e",
		"mkdir -p " + d, "cd " + d,
		"echo a > a; chown games a; ln a b; mv a c; rm b",
		"echo o > other; chown nobody other; chmod 4711 other",
		"echo n > new; chown 1:1 new; mv new other",
		"echo g > gone; chown 5:5 gone; chmod 6755 gone; ln gone gone2; rm gone; mv other gone2",
		"mkdir dir; chown 7:7 dir; rmdir dir",
		"stat -c '%n %u:%g %a' *",
	}, "\n")
	r := vroot(t, work, "--fakeroot", "--stage", st, "--", "sh", "-c", script)
	if want := "c 5:0 644\ngone2 1:1 644\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d stdout %q, want %q (stderr %s)", r.code, r.stdout, want, r.stderr)
	}
	// The run dropped the records of "other" (renamed over), "gone" (its
	// last link renamed over) and "dir".
	if b := readFile(t, filepath.Join(st, ".vroot", "meta")); strings.Count(b, "\nD ") != 3 {
		t.Errorf("drops in the log: %q", b)
	}
	s, err := redirect.OpenStage(st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Opening compacted the log: one line per live record, c and gone2.
	if b := readFile(t, filepath.Join(st, ".vroot", "meta")); strings.Count(b, "\n") != 2 {
		t.Errorf("records left: %q", b)
	}
}

// TestFakerootFdStat: every way of stat'ing a staged file, fd-based ones
// included, reports the record (a device) or, for a file without one, the
// default owner 0:0 (the fd is traced back to the stage); the
// ids read through getresuid/getresgid are root's; fchown and fchmod
// through an fd are recorded.
func TestFakerootFdStat(t *testing.T) {
	work, st := fakerootWork(t)
	d := fakerootDest
	r := vroot(t, work, "--fakeroot", "--stage", st, "--", "sh", "-c",
		"mkdir -p "+d+" && mknod "+d+"/tty c 5 0 && chmod 620 "+d+"/tty && chown 0:5 "+d+"/tty && echo x > "+d+"/plain && "+
			bin("fakestat")+" "+d+"/tty && "+bin("fakestat")+" "+d+"/plain "+d+"/plain")
	var want strings.Builder
	for _, how := range []string{"stat", "fstat", "sys-fstat", "fstatat-empty", "proc-fd", "statx-empty"} {
		want.WriteString(how + ": 0:5 20620 5:0\n")
	}
	want.WriteString("ids: 0 0 0 0 0 0\n")
	for _, how := range []string{"stat", "fstat", "sys-fstat", "fstatat-empty", "proc-fd", "statx-empty"} {
		want.WriteString(how + ": 0:0 100644 0:0\n")
	}
	want.WriteString("ids: 0 0 0 0 0 0\nfchown-fchmod: 12:34 101750 0:0\n")
	if r.code != 0 || r.stdout != want.String() {
		t.Fatalf("exit %d stdout:\n%s\nwant:\n%s\nstderr %s", r.code, r.stdout, want.String(), r.stderr)
	}
}
