package integration

// vroot pack: archives of a stage, their manifests, what packing refuses.
// Tools: GNU tar, bsdtar (libarchive-tools) and NetBSD's mtree
// (mtree-netbsd); under CI a missing one fails the test.

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// packEpoch is the SOURCE_DATE_EPOCH of the packs (2020-09-13).
const packEpoch = 1600000000

var packFormats = []string{"tar", "tar.gz", "tar.zst"}

// packTool finds a command the test needs: missing, the test fails under
// CI and is skipped elsewhere.
func packTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is missing (Debian package %s)", name, pkg)
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// packRun runs vroot pack as the user, with SOURCE_DATE_EPOCH set.
func packRun(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runIn(t, dir, append([]string{"env", fmt.Sprintf("SOURCE_DATE_EPOCH=%d", packEpoch), vrootBin, "pack"}, args...)...)
}

// must runs a command as the test process (root in CI) and returns its
// stdout.
func must(t *testing.T, dir string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%q: %v\n%s%s", argv, err, pkgTailString(o.String()), pkgTailString(e.String()))
	}
	return o.String()
}

// TestPackHelloReproducible: GNU hello configured, built and installed to
// / under vroot --fakeroot twice, into two stages, at two different times, packs to
// the same bytes in every format with the same SOURCE_DATE_EPOCH; the
// archives list root owners; unpacked by root into an empty directory,
// one reproduces the native DESTDIR install; the manifest is read by
// bsdtar and verifies the unpacked tree with NetBSD's mtree.
func TestPackHelloReproducible(t *testing.T) {
	src := filepath.Join(pkgSources(t), "hello")
	bsdtar := packTool(t, "bsdtar", "libarchive-tools")
	mtree := packTool(t, "mtree", "mtree-netbsd")
	gnutar := packTool(t, "tar", "tar")
	work := worldDir(t, "vroot-pack-hello-")
	tree := filepath.Join(work, "build")
	ref := filepath.Join(work, "ref")
	pkgMkdir(t, ref)

	pkgCopySource(t, src, tree)
	pkgMust(t, tree, pkgNativeBuildLimit, "native build", "sh", "-c", "./configure --prefix=/usr && make -j2")
	pkgMust(t, tree, pkgNativeInstallLimit, "native install", "make", "install", "DESTDIR="+ref)
	pkgRemove(t, tree)

	// Two builds at the same path (the debug info records it), at least
	// a second apart: every file they make gets another mtime.
	cmd := "./configure --prefix=/usr && make -j2 && make install"
	var last time.Time
	for _, st := range []string{"stA", "stB"} {
		if d := time.Until(last.Add(1100 * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
		last = time.Now()
		pkgCopySource(t, src, tree)
		r, d := pkgRun(t, tree, pkgVrootLimit, vrootBin, "--fakeroot", "--stage", filepath.Join(work, st), "--", "sh", "-c", cmd)
		if r.code != 0 {
			t.Fatalf("vroot --stage %s -- sh -c %q: exit %d\n%s", st, cmd, r.code, pkgTail(r))
		}
		t.Logf("%s: built and installed in %.1fs", st, d.Seconds())
		pkgRemove(t, tree)
	}
	if fa, err := os.Stat(filepath.Join(work, "stA/root/usr/bin/hello")); err != nil {
		t.Fatalf("stage A has no /usr/bin/hello: %v", err)
	} else if fb, err := os.Stat(filepath.Join(work, "stB/root/usr/bin/hello")); err != nil || fb.ModTime().Equal(fa.ModTime()) {
		t.Fatalf("stage B's /usr/bin/hello: %v, mtime %v, A's %v: want another mtime", err, fb.ModTime(), fa.ModTime())
	}

	for _, f := range packFormats {
		for _, st := range []string{"stA", "stB"} {
			out := st + "." + f
			r := packRun(t, work, st, "-o", out, "--mtree", st+"."+f+".mtree")
			if r.code != 0 || !strings.HasPrefix(r.stdout, "vroot: packed "+st+" into "+out+" ("+f+", ") {
				t.Fatalf("vroot pack %s -o %s: exit %d\n%s%s", st, out, r.code, r.stdout, r.stderr)
			}
		}
		pa, pb := filepath.Join(work, "stA."+f), filepath.Join(work, "stB."+f)
		if c := exec.Command("cmp", pa, pb); c.Run() != nil {
			la := must(t, work, bsdtar, "-tvf", pa)
			lb := must(t, work, bsdtar, "-tvf", pb)
			t.Errorf("%s: the two stages pack differently; listings equal: %v\nA:\n%s\nB:\n%s", f, la == lb, pkgTailString(la), pkgTailString(lb))
		}
		ma, _ := os.ReadFile(pa + ".mtree")
		mb, _ := os.ReadFile(pb + ".mtree")
		if !bytes.Equal(ma, mb) || len(ma) == 0 {
			t.Errorf("%s: the two manifests differ", f)
		}
		// Root owners, as bsdtar reads them.
		for _, l := range strings.Split(strings.TrimSpace(must(t, work, bsdtar, "-tvf", pa)), "\n") {
			if fs := strings.Fields(l); len(fs) < 4 || fs[2] != "root" || fs[3] != "root" {
				t.Errorf("%s: bsdtar -tvf: %q, want owner root root", f, l)
			}
		}
	}
	pa := filepath.Join(work, "stA.tar")

	// GNU tar's verbose listing: root/root, no entry of vroot's state.
	listing := must(t, work, gnutar, "-tvvf", pa)
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		fs := strings.Fields(l)
		if len(fs) < 6 || fs[1] != "root/root" {
			t.Errorf("tar -tvv: %q, want owner root/root", l)
			continue
		}
		name := fs[5]
		if strings.Contains(name, ".vroot") {
			t.Errorf("tar -tvv: %q is vroot's state", l)
		}
		names = append(names, strings.TrimSuffix(name, "/"))
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries not sorted:\n%s", listing)
	}
	if !slices.Contains(names, "./usr/bin/hello") {
		t.Errorf("no ./usr/bin/hello in\n%s", listing)
	}

	// The manifest lists every archived path, as bsdtar parses it.
	empty := filepath.Join(work, "empty") // bsdtar completes entries from files it finds
	pkgMkdir(t, empty)
	manifest := pa + ".mtree"
	var listed []string
	for _, l := range strings.Split(strings.TrimSpace(must(t, empty, bsdtar, "-tf", manifest)), "\n") {
		if l != "." {
			listed = append(listed, l)
		}
	}
	if !slices.Equal(listed, names) {
		t.Errorf("bsdtar -tf of the manifest:\n%s\nwant the archive's entries:\n%s", strings.Join(listed, "\n"), strings.Join(names, "\n"))
	}
	must(t, empty, bsdtar, "-cf", "/dev/null", "@"+manifest)

	// The untar check, as root: the archive reproduces the install.
	if os.Geteuid() != 0 {
		msg := "not root: the untar check needs to unpack owners"
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	want := pkgExpectStage(t, ref, work)
	for _, f := range []string{"tar", "tar.gz"} {
		x := filepath.Join(work, "x-"+f)
		pkgMkdir(t, x)
		must(t, work, gnutar, "-xpf", filepath.Join(work, "stA."+f), "-C", x)
		pkgCompare(t, want, x)
		filepath.WalkDir(x, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Error(err)
				return nil
			}
			fi, _ := d.Info()
			if st := fi.Sys().(*syscall.Stat_t); p != x && (st.Uid != 0 || st.Gid != 0) {
				t.Errorf("%s: unpacked owned by %d:%d, want 0:0", p, st.Uid, st.Gid)
			}
			return nil
		})
		// And the manifest says so too: NetBSD's mtree checks type, owner,
		// mode, size, time, sha256 and link targets.
		if out, err := exec.Command(mtree, "-f", filepath.Join(work, "stA."+f+".mtree"), "-p", x).CombinedOutput(); err != nil {
			t.Errorf("mtree -f stA.%s.mtree -p %s: %v\n%s", f, x, err, out)
		}
	}
	// bsdtar unpacks the zstd one the same way.
	x := filepath.Join(work, "x-zst")
	pkgMkdir(t, x)
	must(t, work, bsdtar, "-xpf", filepath.Join(work, "stA.tar.zst"), "-C", x)
	if out, err := exec.Command(mtree, "-f", filepath.Join(work, "stA.tar.mtree"), "-p", x).CombinedOutput(); err != nil {
		t.Errorf("mtree -f stA.tar.mtree -p %s: %v\n%s", x, err, out)
	}
}

// TestPackDeletions: a stage that deleted a host file does not pack,
// neither with vroot pack nor with a run's --output, unless
// --allow-deletions, which lists it; a failed command packs nothing.
func TestPackDeletions(t *testing.T) {
	bsdtar := packTool(t, "bsdtar", "libarchive-tools")
	work := worldDir(t, "vroot-pack-del-")
	script := "set -e; mkdir -p /opt/vroot-pack-it; echo hi >/opt/vroot-pack-it/f; rm /etc/issue"
	r := vroot(t, work, "--stage", "st", "--output", "run.tar.zst", "--mtree", "run.mtree", "--", "sh", "-c", script)
	if r.code != 125 || !strings.Contains(r.stderr, "vroot: pack st: the build deleted 1 host path(s), which an archive cannot carry:\n  /etc/issue\n") {
		t.Errorf("run --output with a deletion: exit %d, stderr %q; want 125 and /etc/issue listed", r.code, r.stderr)
	}
	for _, f := range []string{"run.tar.zst", "run.mtree"} {
		if _, err := os.Lstat(filepath.Join(work, f)); !os.IsNotExist(err) {
			t.Errorf("%s written by a refused pack (%v)", f, err)
		}
	}
	r = packRun(t, work, "st", "-o", "p.tar")
	if r.code != 125 || !strings.Contains(r.stderr, "\n  /etc/issue\n") || !strings.Contains(r.stderr, "--allow-deletions") {
		t.Errorf("vroot pack with a deletion: exit %d, stderr %q; want 125, /etc/issue listed", r.code, r.stderr)
	}
	r = packRun(t, work, "st", "-o", "p.tar", "--mtree", "p.mtree", "--allow-deletions")
	if r.code != 0 || !strings.Contains(r.stdout, "vroot: not in the archive, deleted by the build: /etc/issue\n") {
		t.Fatalf("vroot pack --allow-deletions: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	man := readFile(t, filepath.Join(work, "p.mtree"))
	if !strings.Contains(man, "\n# vroot: deleted: ./etc/issue\n") {
		t.Errorf("the manifest does not list the deletion:\n%s", man)
	}
	list := must(t, work, bsdtar, "-tf", filepath.Join(work, "p.tar"))
	if want := "./opt/\n./opt/vroot-pack-it/\n./opt/vroot-pack-it/f\n"; list != want {
		t.Errorf("archive holds\n%s\nwant\n%s", list, want)
	}

	// A run with --allow-deletions packs after the command.
	r = vroot(t, work, "--stage", "st", "--output", "run.tar.zst", "--mtree", "run.mtree", "--allow-deletions", "--", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "vroot: packed st into run.tar.zst (tar.zst, 3 entries)\n") {
		t.Errorf("run --output --allow-deletions: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := must(t, work, bsdtar, "-tf", filepath.Join(work, "run.tar.zst")); got != list {
		t.Errorf("run's archive holds\n%s\nwant\n%s", got, list)
	}
	// A failing command: its exit code, nothing packed.
	r = vroot(t, work, "--stage", "st2", "--output", "fail.tar", "--", "sh", "-c", "echo x >/opt/x; exit 3")
	if r.code != 3 {
		t.Errorf("failing command with --output: exit %d, want 3 (stderr %q)", r.code, r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(work, "fail.tar")); !os.IsNotExist(err) {
		t.Errorf("fail.tar written for a failed command (%v)", err)
	}
	// An unknown extension fails before the command runs.
	r = vroot(t, work, "--stage", "st3", "--output", "x.zip", "--", "sh", "-c", "echo ran")
	if r.code != 125 || r.stdout != "" || !strings.Contains(r.stderr, `cannot tell the archive format of "x.zip"`) {
		t.Errorf("--output x.zip: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestPackStageInUse: a stage a running vroot holds is not packed.
func TestPackStageInUse(t *testing.T) {
	work := worldDir(t, "vroot-pack-busy-")
	marker := filepath.Join(work, "inside")
	sleepArg := fmt.Sprintf("300.%09d", time.Now().UnixNano()%1e9)
	startUntil(t, work, marker, time.Minute, vrootBin, "--stage", filepath.Join(work, "st"), "--", "sh", "-c", ": >"+marker+"; exec sleep "+sleepArg)
	r := packRun(t, work, "st", "-o", "busy.tar")
	if r.code != 125 || !strings.Contains(r.stderr, "is in use by another vroot (pid ") {
		t.Errorf("pack of a stage in use: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(work, "busy.tar")); !os.IsNotExist(err) {
		t.Errorf("busy.tar written (%v)", err)
	}
}
