package integration

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// vrootHWM runs vroot like vroot() and also returns its peak resident set
// (VmHWM, in KiB), polled from /proc while it runs: rusage would include
// the build's own processes.
func vrootHWM(t *testing.T, dir string, args ...string) (result, int) {
	t.Helper()
	argv := asUser(append([]string{vrootBin}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + homeDir, "LC_ALL=C", "TMPDIR=/tmp"}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// setpriv execs vroot: the same pid.
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	done := make(chan struct{})
	hwm := make(chan int)
	go func() {
		peak := 0
		for {
			if b, err := os.ReadFile(status); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
						if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB")); err == nil && strings.Contains(string(b), "vroot") {
							peak = max(peak, n)
						}
					}
				}
			}
			select {
			case <-done:
				hwm <- peak
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	// A hang is a failure, not a test timeout ten minutes later.
	hung := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	if !hung.Stop() {
		t.Errorf("vroot %q hung: killed after 2 minutes", args)
	}
	close(done)
	r := result{stdout: o.String(), stderr: e.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		r.code = ee.ExitCode()
	}
	return r, <-hwm
}

// TestFaultScale: forks, threads, vfork/exec loops, zombie storms, a 1 MiB
// argv and tracees killed while stopped or inside rewritten syscalls end
// with the right status and without hanging; vroot's peak RSS is logged.
func TestFaultScale(t *testing.T) {
	h := hostDir(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"forks", "10000", "8"}, "forks 10000: bad 0 sum ok\n"},
		{[]string{"threads", "1000"}, "threads 1000: made 1000 bad 0\n"},
		{[]string{"vforkexec", "300"}, "vforkexec 300: bad 0\n"},
		{[]string{"zombies", "2000"}, "zombies 2000: reaped 2000\n"},
		{[]string{"bigargv"}, "bigargv: exit 7\n"},
		{[]string{"killed", "30", h}, "killed 30: bad 0\n"},
	} {
		t.Run(c.args[0], func(t *testing.T) {
			work := worldDir(t, "vroot-it-fault-")
			start := time.Now()
			r, hwm := vrootHWM(t, work, append([]string{"-q", "--stage", filepath.Join(work, "st"), "--", bin("hostile_fault")}, c.args...)...)
			t.Logf("%s: %v, vroot peak RSS %d KiB", strings.Join(c.args, " "), time.Since(start).Round(time.Millisecond), hwm)
			if r.code != 0 || r.stdout != c.want {
				t.Errorf("exit %d stdout %q, want %q (stderr %q)", r.code, r.stdout, c.want, r.stderr)
			}
		})
	}
}

// markedProcs lists live processes whose environment carries marker.
func markedProcs(marker string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(env, []byte(marker)) {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(st, ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
				continue // dead, waiting for its reaper
			}
		}
		found = append(found, e.Name())
	}
	return found
}

// TestFaultKillVroot: SIGKILL of vroot at random moments of a build that
// forks, runs threads and writes into the stage: no traced process
// survives, and the stage opens cleanly for the next run.
func TestFaultKillVroot(t *testing.T) {
	work := worldDir(t, "vroot-it-killv-")
	st := filepath.Join(work, "st")
	for i := range 5 {
		marker := fmt.Sprintf("VROOT_FAULT_MARKER=%d-%d", time.Now().UnixNano(), i)
		script := "i=0; while :; do i=$((i+1)); echo $i > /usr/local/vroot-fault-$((i%20)); rm -f /usr/local/vroot-fault-$(((i+7)%20)); done & " +
			bin("hostile_fault") + " threads 200; exec " + bin("hostile_fault") + " forks 1000000 4"
		argv := asUser(vrootBin, "-q", "--stage", st, "--", "sh", "-c", script)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = work
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + homeDir, marker}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		var left []string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if left = markedProcs(marker); len(left) == 0 {
				break
			}
		}
		if len(left) > 0 {
			t.Fatalf("run %d: processes of the build survived vroot: %v", i, left)
		}
	}
	r := vroot(t, work, "-q", "--stage", st, "--", "sh", "-c", "echo ok > /usr/local/vroot-fault-after && cat /usr/local/vroot-fault-after")
	if r.code != 0 || r.stdout != "ok\n" {
		t.Fatalf("the stage after the kills: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat("/usr/local/vroot-fault-after"); err == nil {
		t.Error("the write reached the host")
	}
}

// TestFaultBuildKillsVroot: a build that SIGKILLs vroot (its parent, same
// user) takes itself down with it: nothing of it runs on untraced.
func TestFaultBuildKillsVroot(t *testing.T) {
	work := worldDir(t, "vroot-it-killself-")
	marker := fmt.Sprintf("VROOT_FAULT_MARKER=self-%d", time.Now().UnixNano())
	argv := asUser(vrootBin, "-q", "--stage", filepath.Join(work, "st"), "--", "sh", "-c",
		"sleep 60 & sleep 60 & kill -KILL $PPID; sleep 60")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = work
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + homeDir, marker}
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("vroot: %v, want death by SIGKILL", err)
	}
	var left []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if left = markedProcs(marker); len(left) == 0 {
			return
		}
	}
	t.Fatalf("processes of the build survived vroot: %v", left)
}
