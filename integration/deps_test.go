package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The dependency tests need the host's dpkg database with build-essential
// and zlib1g-dev installed (CI installs them): zlib.h is then a header
// that --only-deps must hide unless zlib1g-dev is declared.

func needZlibDev(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/include/zlib.h"); err != nil {
		needEnv(t, "no /usr/include/zlib.h (install zlib1g-dev)")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "zlib1g-dev", "build-essential").Output(); err != nil ||
		strings.Count(string(out), "install ok installed") != 2 {
		needEnv(t, "zlib1g-dev and build-essential are not both installed: %q %v", out, err)
	}
}

const zlibProgram = `#include <stdio.h>
#include <zlib.h>
int main(void) { puts(zlibVersion()); return 0; }
`

// TestOnlyDepsUndeclaredHeader: a program that includes zlib.h fails to
// build when only libc6-dev is declared, with one "undeclared dependency"
// line naming the header and its package, and builds (and links with
// -lz) when zlib1g-dev is declared too. The host is unchanged.
func TestOnlyDepsUndeclaredHeader(t *testing.T) {
	needZlibDev(t)
	work := worldDir(t, "vroot-it-deps-")
	write(t, filepath.Join(work, "z.c"), zlibProgram, 0o644)
	host := []string{"/usr/include/zlib.h", "/usr/include/stdio.h", "/usr/lib/x86_64-linux-gnu", "/usr/local"}
	before := snapshot(t, host...)

	st := filepath.Join(work, "st1")
	r := vroot(t, work, "--stage", st, "--only-deps", "libc6-dev", "--", "gcc", "-o", "z", "z.c", "-lz")
	if r.code == 0 {
		t.Fatalf("built with zlib1g-dev undeclared:\n%s", r.stderr)
	}
	const line = "vroot: undeclared dependency: /usr/include/zlib.h (zlib1g-dev)\n"
	if n := strings.Count(r.stderr, line); n != 1 {
		t.Errorf("%q printed %d times, want once:\n%s", line, n, r.stderr)
	}
	if !strings.Contains(r.stderr, "zlib.h: No such file or directory") {
		t.Errorf("the compiler did not see zlib.h missing:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "z")); err == nil {
		t.Error("a program was built")
	}
	if strings.Contains(r.stderr, "undeclared dependency: /usr/include/stdio.h") {
		t.Errorf("libc6-dev's header was hidden:\n%s", r.stderr)
	}

	st = filepath.Join(work, "st2")
	r = vroot(t, work, "--stage", st, "--only-deps", "libc6-dev,zlib1g-dev", "--", "gcc", "-o", "z", "z.c", "-lz")
	if r.code != 0 {
		t.Fatalf("with zlib1g-dev declared: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "zlib") {
		t.Errorf("zlib files hidden although declared:\n%s", r.stderr)
	}
	out := runIn(t, work, "./z")
	if out.code != 0 || strings.TrimSpace(out.stdout) == "" {
		t.Errorf("the program built does not run: %+v", out)
	}
	if s := vroot(t, work, "status", st); s.code != 0 || s.stdout != "" {
		t.Errorf("the build staged something: %+v", s)
	}
	sameSnapshot(t, before, snapshot(t, host...))
}

// TestOnlyDepsLookups: the stat family sees a hidden file as absent too
// (a configure script's "test -e" agrees with the compiler), and an
// unknown declared package is vroot's error, not a silent allow-nothing.
func TestOnlyDepsLookups(t *testing.T) {
	needZlibDev(t)
	work := worldDir(t, "vroot-it-deps-")
	for _, c := range []struct {
		path string
		code int
	}{
		{"/usr/include/zlib.h", 1},
		{"/usr/include/stdio.h", 0},
		{"/usr/include", 0},  // directories are shared, never hidden
		{"/etc/hostname", 0}, // unowned
	} {
		r := vroot(t, work, "--only-deps", "libc6-dev", "--", "sh", "-c", `test -e "$1"`, "sh", c.path)
		if r.code != c.code {
			t.Errorf("test -e %s: exit %d, want %d\n%s", c.path, r.code, c.code, r.stderr)
		}
	}
	r := vroot(t, work, "--only-deps", "libc6-dev,no-such-package-here", "--", "true")
	if r.code != 125 || !strings.Contains(r.stderr, `package "no-such-package-here" is not installed`) {
		t.Errorf("unknown package: exit %d\n%s", r.code, r.stderr)
	}
}

// TestDepsAttributesReads: vroot deps on a report attributes
// /usr/include/stdio.h to libc6-dev and lists an unowned file apart.
func TestDepsAttributesReads(t *testing.T) {
	needZlibDev(t)
	work := worldDir(t, "vroot-it-deps-")
	report := filepath.Join(work, "report.json")
	write(t, report, `{"reads": [
		{"layer": "host", "path": "/usr/include/stdio.h", "host": "/usr/include/stdio.h", "pid": 2, "command": "cc1"},
		{"layer": "host", "path": "/usr/include/zlib.h", "host": "/usr/include/zlib.h", "pid": 2},
		{"layer": "host", "path": "/etc/hostname", "host": "/etc/hostname", "pid": 1}
	]}`, 0o644)
	r := vroot(t, work, "deps", report)
	if r.code != 0 {
		t.Fatalf("vroot deps: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"libc6-dev\n  /usr/include/stdio.h\n", "zlib1g-dev\n  /usr/include/zlib.h\n", "(unowned)\n  /etc/hostname\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("vroot deps output lacks %q:\n%s", want, r.stdout)
		}
	}
}
