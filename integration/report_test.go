package integration

// The run report (docs/report.md): its schema holds for real runs, reads
// are attributed to the layer that served them, violations and the stage
// are listed, and a failing command still gets its report.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vroot-dev/vroot/internal/jsonschema"
)

// report is the part of the report the tests look at; readReport also
// validates the whole document against docs/report.md's schema.
type report struct {
	Version int      `json:"version"`
	Command []string `json:"command"`
	Net     string   `json:"net"`
	Exit    struct {
		Code   int    `json:"code"`
		Signal string `json:"signal"`
	} `json:"exit"`
	Stage struct {
		Dir                      string
		Added, Modified, Deleted []string
	} `json:"stage"`
	Violations []struct {
		Pid                                     int
		Command, Syscall, Op, Path, Errno, Rule string
	} `json:"violations"`
	Reads []struct {
		Layer, Path, Host string
		Pid               int
		Command           string
	} `json:"reads"`
	Network []struct {
		Pid                               int
		Command, Syscall, Family, Address string
		Allowed                           bool
		Errno, Rewritten                  string
		Count                             int
	} `json:"network"`
}

func readReport(t *testing.T, p string) report {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	md, err := os.ReadFile("../docs/report.md")
	if err != nil {
		t.Fatal(err)
	}
	sb, err := jsonschema.FromMarkdown(md, "schema")
	if err != nil {
		t.Fatal(err)
	}
	s, err := jsonschema.Parse(sb)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ValidateJSON(b); err != nil {
		t.Errorf("%s does not validate against docs/report.md's schema:\n%v", p, err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// read finds the report's entry for a guest path.
func (r report) read(path string) (layer, host, command string, ok bool) {
	for _, e := range r.Reads {
		if e.Path == path {
			return e.Layer, e.Host, e.Command, true
		}
	}
	return "", "", "", false
}

// TestReportFailingCommand: a command that fails still gets its report,
// with its exit status, the deny rule's violation (the process's command
// line included), its host reads, and what it staged.
func TestReportFailingCommand(t *testing.T) {
	work := worldDir(t, "vroot-report-")
	rp := filepath.Join(work, "r.json")
	st := filepath.Join(work, "st")
	r := vroot(t, work, "--stage", st, "--report", rp, "--hide", "/etc/hostname", "--",
		"sh", "-c", "cat /usr/include/stdio.h >/dev/null; echo new >/usr/local/vroot-report-test; cat /etc/hostname; exit 3")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3: %s", r.code, r.stderr)
	}
	if _, err := os.Lstat("/usr/local/vroot-report-test"); err == nil {
		t.Fatal("the write reached the host")
	}
	rep := readReport(t, rp)
	if rep.Version != 1 || rep.Exit.Code != 3 || rep.Exit.Signal != "" || rep.Net != "allow" {
		t.Errorf("version %d exit %+v net %q", rep.Version, rep.Exit, rep.Net)
	}
	if strings.Join(rep.Command, " ") != "sh -c cat /usr/include/stdio.h >/dev/null; echo new >/usr/local/vroot-report-test; cat /etc/hostname; exit 3" {
		t.Errorf("command %q", rep.Command)
	}
	if len(rep.Violations) != 1 {
		t.Fatalf("violations %+v, want the one of /etc/hostname", rep.Violations)
	}
	v := rep.Violations[0]
	if v.Path != "/etc/hostname" || v.Op != "read" || v.Errno != "ENOENT" || v.Rule != "--hide /etc/hostname" ||
		v.Command != "cat /etc/hostname" || v.Pid <= 0 || !strings.HasPrefix(v.Syscall, "open") {
		t.Errorf("violation %+v", v)
	}
	layer, host, cmd, ok := rep.read("/usr/include/stdio.h")
	if !ok || layer != "host" || host != "/usr/include/stdio.h" || cmd != "cat /usr/include/stdio.h" {
		t.Errorf("read of stdio.h: %v layer %q host %q command %q", ok, layer, host, cmd)
	}
	if rep.Stage.Dir != st || !contains(rep.Stage.Added, "/usr/local/vroot-report-test") {
		t.Errorf("stage %+v", rep.Stage)
	}
	// Reads are of lower layers only: not the stage's file, not the
	// granted work directory, each path once.
	seen := map[string]bool{}
	for _, e := range rep.Reads {
		if seen[e.Path] {
			t.Errorf("%s listed twice", e.Path)
		}
		seen[e.Path] = true
		if e.Path == "/usr/local/vroot-report-test" || strings.HasPrefix(e.Path, work) || strings.HasPrefix(e.Path, "/proc/") {
			t.Errorf("read %+v is not of a lower layer", e)
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestReportLayers: under --sdk and --map, each read names the layer that
// served it: the SDK's or map's directory, or the host.
func TestReportLayers(t *testing.T) {
	work := worldDir(t, "vroot-report-layers-")
	sdk := filepath.Join(work, "sdk")
	write(t, filepath.Join(sdk, "usr/include/vroot_report_marker.h"), "#define VROOT_MARKER 1\n", 0o644)
	mapDir := filepath.Join(work, "mapped")
	write(t, filepath.Join(mapDir, "data.txt"), "mapped\n", 0o644)
	sdkReal, err := filepath.EvalSymlinks(sdk)
	if err != nil {
		t.Fatal(err)
	}
	rp := filepath.Join(work, "r.json")
	r := vroot(t, work, "--sdk", sdk, "--report", rp, "--",
		"sh", "-c", "cat /usr/include/vroot_report_marker.h /usr/include/stdio.h")
	if r.code != 0 || !strings.Contains(r.stdout, "VROOT_MARKER") {
		t.Fatalf("--sdk: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	rep := readReport(t, rp)
	wantLayer := sdkReal + "/usr/include"
	if layer, host, _, ok := rep.read("/usr/include/vroot_report_marker.h"); !ok || layer != wantLayer || host != wantLayer+"/vroot_report_marker.h" {
		t.Errorf("--sdk: marker read %v from layer %q (%q), want %q", ok, layer, host, wantLayer)
	}
	if layer, _, _, ok := rep.read("/usr/include/stdio.h"); !ok || layer != "host" {
		t.Errorf("--sdk: stdio.h read %v from layer %q, want host", ok, layer)
	}

	guest := "/usr/share/vroot-report-map"
	if _, err := os.Lstat(guest); err == nil {
		t.Fatalf("%s exists on the host", guest)
	}
	r = vroot(t, work, "--map", guest+"="+mapDir, "--report", rp, "--", "cat", guest+"/data.txt")
	if r.code != 0 || r.stdout != "mapped\n" {
		t.Fatalf("--map: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	rep = readReport(t, rp)
	if layer, host, cmd, ok := rep.read(guest + "/data.txt"); !ok || layer != mapDir || host != mapDir+"/data.txt" || cmd != "cat "+guest+"/data.txt" {
		t.Errorf("--map: read %v layer %q host %q command %q, want layer %q", ok, layer, host, cmd, mapDir)
	}
	// The program itself came from the host.
	if layer, _, _, ok := rep.read("/usr/bin/cat"); !ok || layer != "host" {
		t.Errorf("--map: exec of /usr/bin/cat: %v %q", ok, layer)
	}
}

// TestReportHello: configure and make of GNU hello with --report. The
// report validates against the documented schema and lists
// /usr/include/stdio.h, read from the host by the compiler.
func TestReportHello(t *testing.T) {
	src := filepath.Join(pkgSources(t), "hello")
	work := worldDir(t, "vroot-report-hello-")
	tree := filepath.Join(work, "build")
	rp := filepath.Join(work, "report.json")
	pkgCopySource(t, src, tree)
	cmd := "./configure --prefix=/usr && make -j2"
	r, d := pkgRun(t, tree, pkgVrootLimit, vrootBin, "--stage", filepath.Join(work, "st"), "--report", rp, "--", "sh", "-c", cmd)
	if r.code != 0 {
		t.Fatalf("vroot -- sh -c %q: exit %d\n%s", cmd, r.code, pkgTail(r))
	}
	t.Logf("hello configure and make with --report: %.1fs", d.Seconds())
	rep := readReport(t, rp)
	if rep.Exit.Code != 0 || len(rep.Violations) != 0 {
		t.Errorf("exit %+v, violations %+v", rep.Exit, rep.Violations)
	}
	layer, host, command, ok := rep.read("/usr/include/stdio.h")
	if !ok || layer != "host" || host != "/usr/include/stdio.h" {
		t.Fatalf("stdio.h: listed %v, layer %q, host %q", ok, layer, host)
	}
	if !strings.Contains(command, "cc1") && !strings.Contains(command, "gcc") && !strings.Contains(command, "cpp") {
		t.Errorf("stdio.h first read by %q, want the compiler", command)
	}
	for _, e := range rep.Reads {
		if strings.HasPrefix(e.Path, tree) {
			t.Errorf("a file of the granted build tree is listed as a lower-layer read: %+v", e)
			break
		}
	}
	t.Logf("%d reads listed", len(rep.Reads))

	// The same report, attributed to Debian packages.
	dr := vroot(t, work, "deps", rp)
	if dr.code != 0 {
		t.Fatalf("vroot deps: exit %d\n%s", dr.code, dr.stderr)
	}
	if !strings.Contains(dr.stdout, "libc6-dev\n") || !regexp.MustCompile(`(?m)^libc6-dev\n(  .*\n)*  /usr/include/stdio.h\n`).MatchString(dr.stdout) {
		t.Errorf("vroot deps does not list /usr/include/stdio.h under libc6-dev:\n%s", dr.stdout)
	}
}
