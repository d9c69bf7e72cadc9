package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vroot-dev/vroot/deps"
)

// fixtureRoot is the deps package's fixture: a merged-/usr tree with a dpkg
// database (see deps/deps_test.go).
var fixtureRoot, _ = filepath.Abs("../../deps/testdata/root")

// report is a vroot report as the run writes it; fields deps does not
// read are ignored.
const report = `{
  "schema": 1,
  "command": ["cc", "-c", "z.c"],
  "violations": [],
  "reads": [
    {"layer": "host", "path": "/usr/include/zlib.h", "host": "/usr/include/zlib.h", "pid": 12, "command": "cc1 z.c", "extra": true},
    {"layer": "host", "path": "/usr/include/stdio.h", "host": "/usr/include/stdio.h", "pid": 12},
    {"layer": "host", "path": "/usr/lib/x86_64-linux-gnu/libc.so.6", "host": "/usr/lib/x86_64-linux-gnu/libc.so.6", "pid": 11},
    {"layer": "host", "path": "/usr/include", "host": "/usr/include", "pid": 12},
    {"layer": "host", "path": "/etc/hostname", "host": "/etc/hostname", "pid": 11},
    {"layer": "/opt/sdk", "path": "/usr/include/a.h", "host": "/opt/sdk/usr/include/a.h", "pid": 12}
  ],
  "network": []
}`

func TestDepsText(t *testing.T) {
	f := write(t, t.TempDir(), "report.json", report)
	for _, args := range [][]string{{"deps", "--root", fixtureRoot, f}, {"deps", f, "--root", fixtureRoot}} {
		r := runMain(t, args...)
		checkEq(t, r.code, 0, "stderr: %s", r.stderr)
		checkEq(t, r.stdout, `libc6
  /usr/lib/x86_64-linux-gnu/libc.so.6
libc6-dev
  /usr/include/stdio.h
zlib1g-dev
  /usr/include/zlib.h
(unowned)
  /etc/hostname
(layer /opt/sdk)
  /usr/include/a.h
`)
	}
}

func TestDepsJSON(t *testing.T) {
	f := write(t, t.TempDir(), "report.json", report)
	r := runMain(t, "deps", "--json", "--root", fixtureRoot, f)
	checkEq(t, r.code, 0, "stderr: %s", r.stderr)
	var a deps.Attribution
	mustNil(t, json.Unmarshal([]byte(r.stdout), &a))
	var pkgs []string
	for _, p := range a.Packages {
		pkgs = append(pkgs, p.Package)
	}
	checkEq(t, slices.Equal(pkgs, []string{"libc6", "libc6-dev", "zlib1g-dev"}), true, "packages %q", pkgs)
	checkEq(t, slices.Equal(a.Packages[1].Files, []string{"/usr/include/stdio.h"}), true, "libc6-dev files %q", a.Packages[1].Files)
	checkEq(t, slices.Equal(a.Unowned, []string{"/etc/hostname"}), true, "unowned %q", a.Unowned)
}

func TestDepsBadReport(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json": "reads: none",
		"no reads": `{"schema": 1}`,
	} {
		r := runMain(t, "deps", "--root", fixtureRoot, write(t, dir, name, content))
		checkEq(t, r.code, 125)
		checkContains(t, r.stderr, "not a vroot report")
	}
}

func TestParseOnlyDeps(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"make"}, nil},
		{[]string{"--only-deps", "", "make"}, []string{}},
		{[]string{"--only-deps", "zlib1g-dev, libssl-dev", "--only-deps=libc6-dev", "make"}, []string{"zlib1g-dev", "libssl-dev", "libc6-dev"}},
	} {
		o, err := parseArgs(c.args)
		mustNil(t, err)
		checkEq(t, o.onlyDeps == nil, c.want == nil, "%q: onlyDeps %q", c.args, o.onlyDeps)
		checkEq(t, slices.Equal(o.onlyDeps, c.want), true, "%q: onlyDeps %q, want %q", c.args, o.onlyDeps, c.want)
	}
}

func TestCheckOnlyDeps(t *testing.T) {
	inTempHome(t)
	old := dpkgRoot
	dpkgRoot = fixtureRoot
	t.Cleanup(func() { dpkgRoot = old })
	r := runMain(t, "check", "--only-deps", "zlib1g-dev")
	checkEq(t, r.code, 0, "stderr: %s", r.stderr)
	checkContains(t, r.stdout, "\nonly-deps: base-files build-essential cpp-13 dash gawk gcc libc6 libc6-dev linux-libc-dev make zlib1g zlib1g-dev\n")
	r = runMain(t, "check", "--only-deps", "zlib1g-dve")
	checkEq(t, r.code, 125)
	checkEq(t, r.stderr, "vroot: --only-deps: package \"zlib1g-dve\" is not installed\n")
}
