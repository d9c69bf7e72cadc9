package integration

// The network policy (--net), end to end: a small C client (testdata/
// netclient.c) binds, connects and sends under each policy. Every run is
// inside a network namespace the test makes, whose only interface is lo:
// whatever vroot does, no packet can leave the machine. Non-loopback
// addresses are from 10.0.0.0/8 and have no route there.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// netClients are the client calls each run makes, in order.
var netClients = [][3]string{
	{"connect", "127.0.0.1", "7777"},
	{"connect", "10.1.2.3", "80"},
	{"connect", "::ffff:127.0.0.1", "7777"},
	{"connect", "::ffff:10.1.2.3", "80"},
	{"sendto", "127.0.0.1", "53"},
	{"sendto", "10.1.2.3", "53"},
	{"sendmsg", "127.0.0.1", "53"},
	{"sendmsg", "10.1.2.3", "53"},
	{"bind", "127.0.0.1", "0"},
	{"bind", "0.0.0.0", "0"},
	{"bind", "::", "0"},
	{"bind", "10.1.2.3", "0"},
}

// netWant is what each client call prints, by policy ("native" is the
// kernel in the namespace, without vroot).
var netWant = map[string][]string{
	"native": {"ok", "ENETUNREACH", "ok", "ENETUNREACH", "ok", "ENETUNREACH", "ok", "ENETUNREACH",
		"ok 127.0.0.1", "ok 0.0.0.0", "ok ::", "EADDRNOTAVAIL"},
	"allow": {"ok", "ENETUNREACH", "ok", "ENETUNREACH", "ok", "ENETUNREACH", "ok", "ENETUNREACH",
		"ok 127.0.0.1", "ok 0.0.0.0", "ok ::", "EADDRNOTAVAIL"},
	"loopback": {"ok", "ENETUNREACH", "ok", "ENETUNREACH", "ok", "ENETUNREACH", "ok", "ENETUNREACH",
		"ok 127.0.0.1", "ok 127.0.0.1", "ok ::1", "EADDRNOTAVAIL"},
	"none": {"ECONNREFUSED", "ENETUNREACH", "ECONNREFUSED", "ENETUNREACH", "EPERM", "ENETUNREACH", "EPERM", "ENETUNREACH",
		"EACCES", "EACCES", "EACCES", "EADDRNOTAVAIL"},
}

// netAllowed says which calls the policy lets run (a refused call may get
// the errno the kernel would have given anyway: only the report tells).
var netAllowed = map[string][]bool{
	"allow":    {true, true, true, true, true, true, true, true, true, true, true, true},
	"loopback": {true, false, true, false, true, false, true, false, true, true, true, false},
	"none":     {false, false, false, false, false, false, false, false, false, false, false, false},
}

// inNetns runs script with sh in a new network namespace with lo up and a
// listener on 127.0.0.1:7777. As root, the namespace is made by root and
// $AS_USER (setpriv) runs commands as the test user; otherwise an
// unprivileged user namespace makes it (unshare -rn) and $AS_USER is empty.
func inNetns(t *testing.T, dir, script string) result {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		msg := "unshare (util-linux) is needed to make a network namespace"
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	asUser := ""
	unshare := []string{"unshare", "-n"}
	if os.Geteuid() != 0 {
		unshare = []string{"unshare", "-rn"}
	} else {
		asUser = fmt.Sprintf("setpriv --reuid=%d --regid=%d --clear-groups", testUID, testUID)
	}
	full := `set -u
"$NC" lo-up || exit 100
srv=$("$NC" serve 7777) || exit 101
` + script + `
rc=$?
kill $srv
exit $rc`
	cmd := exec.Command(unshare[0], append(unshare[1:], "sh", "-c", full)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + homeDir, "LC_ALL=C", "TMPDIR=/tmp",
		"NC=" + bin("netclient"), "VROOT=" + vrootBin, "AS_USER=" + asUser}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("unshare: %v", err)
		}
		r.code = ee.ExitCode()
	}
	if r.code == 100 || r.code == 101 {
		t.Fatalf("setting up the network namespace: exit %d\n%s", r.code, r.stderr)
	}
	return r
}

func clientScript() string {
	var b strings.Builder
	for i, c := range netClients {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s %s %s", bin("netclient"), c[0], c[1], c[2])
	}
	return b.String()
}

// checkClients compares the clients' output with the policy's column.
func checkClients(t *testing.T, policy, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := netWant[policy]
	if len(lines) != len(want) {
		t.Fatalf("%s: %d lines, want %d:\n%s", policy, len(lines), len(want), out)
	}
	for i, c := range netClients {
		w := fmt.Sprintf("%s %s %s: %s", c[0], c[1], c[2], want[i])
		if lines[i] != w {
			t.Errorf("%s: %q, want %q", policy, lines[i], w)
		}
	}
}

func TestNetPolicy(t *testing.T) {
	work := worldDir(t, "vroot-net-")
	clients := clientScript()

	// The kernel's own answers in such a namespace, as the reference.
	r := inNetns(t, work, `$AS_USER sh -c '`+clients+`'`)
	if r.code != 0 {
		t.Fatalf("native: exit %d %s", r.code, r.stderr)
	}
	checkClients(t, "native", r.stdout)

	for _, policy := range []string{"allow", "loopback", "none"} {
		t.Run(policy, func(t *testing.T) {
			rp := filepath.Join(work, "report-"+policy+".json")
			r := inNetns(t, work, fmt.Sprintf(`$AS_USER "$VROOT" --net %s --report %s -- sh -c '%s'`, policy, rp, clients))
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			checkClients(t, policy, r.stdout)
			rep := readReport(t, rp)
			if rep.Net != policy {
				t.Errorf("report's net %q", rep.Net)
			}
			// Every call appears once, allowed or not, with the errno the
			// client saw when vroot refused it, and the client's command line.
			type key struct{ syscall, addr string }
			got := map[key]int{}
			for i, n := range rep.Network {
				got[key{n.Syscall, n.Address}] = i
			}
			for i, c := range netClients {
				addr := c[1] + ":" + c[2]
				if strings.Contains(c[1], ":") {
					addr = "[" + c[1] + "]:" + c[2]
				}
				j, ok := got[key{c[0], addr}]
				if !ok {
					t.Errorf("%s %s is not in the report: %+v", c[0], addr, rep.Network)
					continue
				}
				n := rep.Network[j]
				if n.Allowed != netAllowed[policy][i] || n.Count != 1 || !strings.HasSuffix(n.Command, strings.Join(c[:], " ")) {
					t.Errorf("%s %s: %+v, want allowed %v", c[0], addr, n, netAllowed[policy][i])
				}
				if !n.Allowed && n.Errno != netWant[policy][i] {
					t.Errorf("%s %s: reported errno %q, the client saw %q", c[0], addr, n.Errno, netWant[policy][i])
				}
				if want := strings.TrimPrefix(netWant[policy][i], "ok "); n.Rewritten != "" && !strings.HasPrefix(n.Rewritten, want) &&
					!strings.HasPrefix(n.Rewritten, "["+want+"]") {
					t.Errorf("%s %s: rewritten to %q, the client bound %q", c[0], addr, n.Rewritten, want)
				}
				if fam := "inet"; strings.Contains(c[1], ":") {
					fam = "inet6"
					if n.Family != fam {
						t.Errorf("%s %s: family %q", c[0], addr, n.Family)
					}
				} else if n.Family != fam {
					t.Errorf("%s %s: family %q", c[0], addr, n.Family)
				}
			}
			if len(rep.Network) != len(netClients) {
				t.Errorf("%d network entries, want %d: %+v", len(rep.Network), len(netClients), rep.Network)
			}
		})
	}

	// The strict profile says net = "none".
	t.Run("strict profile", func(t *testing.T) {
		r := inNetns(t, work, `$AS_USER "$VROOT" --profile strict -- "$NC" connect 127.0.0.1 7777`)
		if r.code != 0 || r.stdout != "connect 127.0.0.1 7777: ECONNREFUSED\n" {
			t.Errorf("exit %d %q %s", r.code, r.stdout, r.stderr)
		}
		r = inNetns(t, work, `$AS_USER "$VROOT" --profile strict --net loopback -- "$NC" connect 127.0.0.1 7777`)
		if r.code != 0 || r.stdout != "connect 127.0.0.1 7777: ok\n" {
			t.Errorf("--net loopback over strict: exit %d %q %s", r.code, r.stdout, r.stderr)
		}
	})
}
