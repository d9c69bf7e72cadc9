package integration

// Real packages installed "to /" under vroot, checked against the same
// install made natively with DESTDIR.
//
// The sources are Debian source packages, unpacked once by
// integration/fetch-sources.sh into $VROOT_TEST_SOURCES (default
// /var/cache/vroot-test-sources); .ci/run does it before the tests:
//
//   hello    GNU hello 2.10: autotools (gnulib configure, po/, Info manual)
//   zlib     zlib 1.2.13: its own configure; its install rm's then cp's
//            /usr/include/zlib.h, which the host may already have
//   lua5.4   lua 5.4.4, upstream's plain Makefile: `make linux`, then
//            `make install INSTALL_TOP=...`. Debian's patches are not
//            applied (fetch-sources.sh unpacks with --skip-patches): their
//            0001-build-system replaces that Makefile by a libtool build that
//            installs under debian/tmp, and 0002 includes a header that only
//            debian/rules generates.
//
// For each package both builds run as the unprivileged test user, one after
// the other in a fresh copy of the source at the same path (hello is built
// with -g: its debug info records the build directory, so two paths would
// give two binaries). The stage must then hold exactly what a real install
// to / would have changed, file by file: see pkgExpectStage.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pkgSourcesDefault = "/var/cache/vroot-test-sources"

// Time bounds of one step (each also ends 30 s before the go test
// deadline). The packages are small: on an idle 2-CPU machine hello's
// configure takes about 5 s natively, zlib's configure and make and lua's
// make about 2 s each (the shared bench's figures); a loaded machine can
// take ten times that.
const (
	pkgNativeBuildLimit   = 5 * time.Minute
	pkgNativeInstallLimit = 1 * time.Minute
	pkgVrootLimit         = 10 * time.Minute
)

type pkgBuild struct {
	name   string   // directory in the sources cache
	build  string   // configure and make: the same natively and under vroot
	native string   // native install; %s is the reference root (DESTDIR)
	staged string   // install to / under vroot
	run    []string // a command that runs the installed program under vroot
	want   string   // and its stdout
}

var pkgBuilds = []pkgBuild{
	{
		name:   "hello",
		build:  "./configure --prefix=/usr && make -j2",
		native: "make install DESTDIR=%s",
		staged: "make install",
		run:    []string{"hello"},
		want:   "Hello, world!\n",
	},
	{
		name:   "zlib",
		build:  "./configure --prefix=/usr && make -j2",
		native: "make install DESTDIR=%s",
		staged: "make install",
	},
	{
		name:   "lua5.4",
		build:  "make -j2 linux",
		native: "make install INSTALL_TOP=%s/usr/local",
		staged: "make install INSTALL_TOP=/usr/local",
		run:    []string{"lua", "-e", "print(string.format('%d %s', 6 * 7, _VERSION))"},
		want:   "42 Lua 5.4\n",
	},
}

// pkgSources returns the sources cache; without it the tests fail under CI
// and are skipped elsewhere.
func pkgSources(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VROOT_TEST_SOURCES")
	if dir == "" {
		dir = pkgSourcesDefault
	}
	var missing []string
	for _, p := range pkgBuilds {
		if fi, err := os.Stat(filepath.Join(dir, p.name)); err != nil || !fi.IsDir() {
			missing = append(missing, p.name)
		}
	}
	if len(missing) == 0 {
		return dir
	}
	msg := fmt.Sprintf("the Debian sources of %s are not in %s (VROOT_TEST_SOURCES); fetch them with:\n"+
		"    sudo integration/fetch-sources.sh\n"+
		"(or, with deb-src entries and dpkg-dev already there: VROOT_TEST_SOURCES=DIR integration/fetch-sources.sh fetch)",
		strings.Join(missing, ", "), dir)
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestPackagesInstallLikeDestdir: configure, make and make install of each
// package under vroot, without DESTDIR, stage exactly what the native
// DESTDIR install produced (as a real install to / would place it), the
// host does not change, and the installed program runs from the stage.
func TestPackagesInstallLikeDestdir(t *testing.T) {
	sources := pkgSources(t)
	for _, p := range pkgBuilds {
		t.Run(p.name, func(t *testing.T) {
			src := filepath.Join(sources, p.name)
			work := worldDir(t, "vroot-pkg-"+p.name+"-")
			tree := filepath.Join(work, "build")
			ref := filepath.Join(work, "ref")
			st := filepath.Join(work, "st")
			pkgMkdir(t, ref)

			// Native, as the user, into the reference root.
			pkgCopySource(t, src, tree)
			d := pkgMust(t, tree, pkgNativeBuildLimit, "native build", "sh", "-c", p.build)
			i := pkgMust(t, tree, pkgNativeInstallLimit, "native install", "sh", "-c", fmt.Sprintf(p.native, ref))
			t.Logf("%s natively: build (%s) %.1fs, install %.1fs", p.name, p.build, d.Seconds(), i.Seconds())
			pkgRemove(t, tree)

			// Under vroot, as the user, in a fresh copy at the same path.
			pkgCopySource(t, src, tree)
			roots := pkgHostRoots(ref)
			before := pkgSnapshot(roots)
			cmd := p.build + " && " + p.staged
			r, v := pkgRun(t, tree, pkgVrootLimit, vrootBin, "--stage", st, "--", "sh", "-c", cmd)
			pkgSameSnapshot(t, before, pkgSnapshot(roots))
			if r.code != 0 {
				t.Fatalf("vroot --stage %s -- sh -c %q: exit %d after %.1fs\n%s", st, cmd, r.code, v.Seconds(), pkgTail(r))
			}
			t.Logf("%s under vroot: build and install %.1fs", p.name, v.Seconds())

			want := pkgExpectStage(t, ref, work)
			pkgCompare(t, want, filepath.Join(st, "root"))
			pkgGuestView(t, work, st, want)
			if p.run != nil {
				r := vroot(t, work, append([]string{"--stage", st, "--"}, p.run...)...)
				if r.code != 0 || r.stdout != p.want {
					t.Errorf("%q from the stage: exit %d, stdout %q, want %q (stderr %q)", p.run, r.code, r.stdout, p.want, r.stderr)
				}
			}
		})
	}
}

// TestPackagesInterruptedInstall: vroot is SIGKILLed in the middle of
// hello's make install into stage A (after the translations, halfway
// through writing /usr/bin/hello); a second make install into A completes,
// and A then equals stage B of an uninterrupted install, and the native
// DESTDIR install.
func TestPackagesInterruptedInstall(t *testing.T) {
	src := filepath.Join(pkgSources(t), "hello")
	work := worldDir(t, "vroot-pkg-kill-")
	tree := filepath.Join(work, "build")
	ref := filepath.Join(work, "ref")
	stA := filepath.Join(work, "stA")
	stB := filepath.Join(work, "stB")
	pkgMkdir(t, ref)
	pkgCopySource(t, src, tree)
	d := pkgMust(t, tree, pkgNativeBuildLimit, "native build", "sh", "-c", "./configure --prefix=/usr && make -j2")
	pkgMust(t, tree, pkgNativeInstallLimit, "native install", "make", "install", "DESTDIR="+ref)
	t.Logf("hello natively: build %.1fs", d.Seconds())

	// The kill point is made deterministic by an install(1) wrapper, which
	// make runs for every file (hello's Makefiles take INSTALL from the
	// command line, po/ included). The translations come first, then the
	// program: the wrapper writes the first 4 KiB of it, leaves a marker
	// and waits. The marker is in the granted work directory.
	marker := filepath.Join(work, "killed-here")
	sleepArg := fmt.Sprintf("600.%09d", time.Now().UnixNano()%1e9)
	wrapper := filepath.Join(work, "slow-install")
	write(t, wrapper, `#!/bin/sh
# /usr/bin/install, except for the hello program: writes its first 4 KiB,
# leaves a marker and waits to be killed.
for a; do last=$a; done
case " $* " in
*" hello "*) ;;
*) exec /usr/bin/install "$@" ;;
esac
dest=$last
[ -d "$dest" ] && dest=$dest/hello
head -c 4096 hello >"$dest" || exit 1
: >`+marker+`
exec sleep `+sleepArg+"\n", 0o755)

	bg := startUntil(t, tree, marker, 3*time.Minute, vrootBin, "--stage", stA, "--", "make", "install", "INSTALL="+wrapper)
	// Kill vroot itself (setpriv execs it, so the pid is vroot's), not the build.
	bg.cmd.Process.Signal(syscall.SIGKILL)
	<-bg.done
	deadline := time.Now().Add(10 * time.Second)
	for {
		o, _ := exec.Command("pgrep", "-f", "sleep "+sleepArg).Output()
		if len(bytes.TrimSpace(o)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the build survived vroot: %s", o)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fi, err := os.Lstat(filepath.Join(stA, "root/usr/bin/hello")); err == nil {
		t.Logf("killed with /usr/bin/hello staged at %d bytes", fi.Size())
	} else {
		t.Logf("killed; the stage has no /usr/bin/hello (%v)", err)
	}

	r, d := pkgRun(t, tree, pkgVrootLimit, vrootBin, "--stage", stA, "--", "make", "install")
	if r.code != 0 {
		t.Fatalf("make install again into the interrupted stage: exit %d\n%s", r.code, pkgTail(r))
	}
	t.Logf("resumed install %.1fs", d.Seconds())
	r, d = pkgRun(t, tree, pkgVrootLimit, vrootBin, "--stage", stB, "--", "make", "install")
	if r.code != 0 {
		t.Fatalf("make install into a fresh stage: exit %d\n%s", r.code, pkgTail(r))
	}
	t.Logf("uninterrupted install %.1fs", d.Seconds())

	// A against B: every entry, directories included, exactly.
	b := pkgScan(t, filepath.Join(stB, "root"))
	exact := map[string]*pkgWant{}
	for rel, e := range b {
		exact[rel] = &pkgWant{e: e, why: "in stage B"}
	}
	pkgCompare(t, exact, filepath.Join(stA, "root"))
	// And both against what the native install says.
	want := pkgExpectStage(t, ref, work)
	pkgCompare(t, want, filepath.Join(stA, "root"))
	pkgCompare(t, want, filepath.Join(stB, "root"))
}

// ---------------------------------------------------------------- running

func pkgEnv() []string {
	// As runIn.
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + homeDir, "LC_ALL=C", "TMPDIR=/tmp"}
}

// pkgLimit caps a step's time bound at the go test deadline, less a margin
// to report the failure.
func pkgLimit(t *testing.T, limit time.Duration) time.Duration {
	if dl, ok := t.Deadline(); ok {
		if left := time.Until(dl) - 30*time.Second; left < limit {
			limit = left
		}
	}
	if limit < time.Second {
		limit = time.Second
	}
	return limit
}

// pkgRun is runIn with a time bound: argv runs as the user in its own
// process group, killed whole when the bound passes (for vroot, its
// tracees die with it).
func pkgRun(t *testing.T, dir string, limit time.Duration, argv ...string) (result, time.Duration) {
	t.Helper()
	limit = pkgLimit(t, limit)
	argv = asUser(argv...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = pkgEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("%q: %v", argv, err)
	}
	timer := time.AfterFunc(limit, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err := cmd.Wait()
	took := time.Since(start)
	timedOut := !timer.Stop()
	r := result{stdout: o.String(), stderr: e.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%q: %v", argv, err)
		}
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
	}
	if timedOut {
		t.Fatalf("%q in %s: killed after %s\n%s", argv, dir, limit, pkgTail(r))
	}
	return r, took
}

// pkgMust runs a native step that must succeed and returns its time.
func pkgMust(t *testing.T, dir string, limit time.Duration, what string, argv ...string) time.Duration {
	t.Helper()
	r, d := pkgRun(t, dir, limit, argv...)
	if r.code != 0 {
		t.Fatalf("%s (%q in %s): exit %d\n%s", what, argv, dir, r.code, pkgTail(r))
	}
	return d
}

func pkgTail(r result) string {
	return pkgTailString(r.stdout) + "\n--- stderr:\n" + pkgTailString(r.stderr)
}

func pkgTailString(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// pkgCopySource copies the unpacked source to dir as the user, times kept
// (the generated files must stay newer than their inputs: make must not
// try to rerun autoconf, makeinfo or help2man).
func pkgCopySource(t *testing.T, src, dir string) {
	t.Helper()
	if r := runIn(t, "/", "cp", "-R", "--preserve=mode,timestamps", src, dir); r.code != 0 {
		t.Fatalf("copying %s: %s", src, r.stderr)
	}
}

func pkgMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
}

func pkgRemove(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------- trees

type pkgEntry struct {
	typ    string // file, dir, symlink, or the fs.FileMode type letter
	perm   fs.FileMode
	size   int64
	sum    string // sha256 of a file
	target string // of a symlink
}

func (e pkgEntry) String() string {
	switch e.typ {
	case "file":
		return fmt.Sprintf("file %#o, %d bytes, sha256 %.12s", uint32(e.perm), e.size, e.sum)
	case "symlink":
		return "symlink -> " + e.target
	}
	return fmt.Sprintf("%s %#o", e.typ, uint32(e.perm))
}

// pkgDiff says how got differs from want.
func pkgDiff(want, got pkgEntry) string {
	var d []string
	if want.typ != got.typ {
		return fmt.Sprintf("%s, want %s", got, want)
	}
	if want.typ != "symlink" && want.perm != got.perm {
		d = append(d, fmt.Sprintf("mode %#o, want %#o", uint32(got.perm), uint32(want.perm)))
	}
	if want.target != got.target {
		d = append(d, fmt.Sprintf("target %q, want %q", got.target, want.target))
	}
	if want.size != got.size || want.sum != got.sum {
		d = append(d, fmt.Sprintf("%d bytes sha256 %.12s, want %d bytes sha256 %.12s", got.size, got.sum, want.size, want.sum))
	}
	return strings.Join(d, "; ")
}

const pkgModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

func pkgStat(t *testing.T, p string) (pkgEntry, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return pkgEntry{}, err
	}
	e := pkgEntry{perm: fi.Mode() & pkgModeBits}
	switch {
	case fi.Mode().IsRegular():
		e.typ, e.size = "file", fi.Size()
		f, err := os.Open(p)
		if err != nil {
			return e, err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return e, err
		}
		e.sum = hex.EncodeToString(h.Sum(nil))
	case fi.IsDir():
		e.typ = "dir"
	case fi.Mode()&fs.ModeSymlink != 0:
		e.typ, e.perm = "symlink", 0
		if e.target, err = os.Readlink(p); err != nil {
			return e, err
		}
	default:
		e.typ = fi.Mode().Type().String()
	}
	return e, nil
}

// pkgScan maps every path under root (relative, root excluded) to its entry.
func pkgScan(t *testing.T, root string) map[string]pkgEntry {
	t.Helper()
	m := map[string]pkgEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		e, err := pkgStat(t, p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m[rel] = e
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", root, err)
	}
	return m
}

type pkgWant struct {
	e pkgEntry
	// optional: a host directory the install only passed through (mkdir -p
	// found it). The stage holds it when something was installed under it.
	optional bool
	why      string
}

// pkgHostResolve says where the guest path /rel lands on a real root: the
// host's symlinks are followed (lua installs to /usr/local/man/man1, and
// Debian's /usr/local/man is a symlink to share/man). The part that does not
// exist on the host is taken literally. The result is relative to /.
func pkgHostResolve(rel string) string {
	p, rest := "/"+rel, ""
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return strings.TrimPrefix(filepath.Join(r, rest), "/")
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = filepath.Dir(p)
	}
}

// pkgExpectStage derives the expected stage from the native DESTDIR tree
// ref, as a real install to / would have changed the host:
//   - a file or symlink of ref is expected as it is (type, mode, contents or
//     target), at its path with the host's symlinks followed in its parents;
//   - a directory of ref that the host has (mkdir -p only found it) is in
//     the stage only as the copied-up parent of something installed, with the
//     host directory's mode (the overlay copies the lower dir's mode, and
//     mkdir -p never changes an existing dir's mode); it may be absent when
//     nothing was installed under it;
//   - a directory of ref the host lacks is created by the install: expected
//     with ref's mode, plus the setgid bit when its parent has it (the kernel
//     passes it down; /usr/local/* is setgid staff on many Debian systems);
//   - nothing else may be in the stage.
//
// One file is not taken from ref: the Info directory. hello's make install
// runs install-info when the host has it; with DESTDIR that creates a fresh
// DESTDIR/usr/share/info/dir holding hello's entry only, while an install to
// / adds the entry to the host's /usr/share/info/dir. The expected file is
// made by running the same install-info natively on a copy of the host's
// dir file (or on none, when the host has no dir file).
func pkgExpectStage(t *testing.T, ref, work string) map[string]*pkgWant {
	t.Helper()
	refEntries := pkgScan(t, ref)
	rels := make([]string, 0, len(refEntries))
	for rel := range refEntries {
		rels = append(rels, rel)
	}
	sort.Strings(rels) // parents first
	want := map[string]*pkgWant{}
	hostDir := func(g string) (pkgEntry, bool) {
		e, err := pkgStat(t, "/"+g)
		return e, err == nil && e.typ == "dir"
	}
	setgid := func(g string) bool {
		if w, ok := want[g]; ok {
			return w.e.perm&fs.ModeSetgid != 0
		}
		e, ok := hostDir(g)
		return ok && e.perm&fs.ModeSetgid != 0
	}
	for _, rel := range rels {
		e := refEntries[rel]
		if e.typ == "dir" {
			g := pkgHostResolve(rel)
			if he, ok := hostDir(g); ok {
				want[g] = &pkgWant{e: he, optional: true, why: "host directory"}
				continue
			}
			if setgid(filepath.Dir(g)) {
				e.perm |= fs.ModeSetgid
			}
			want[g] = &pkgWant{e: e, why: "new directory of the install"}
			continue
		}
		g := filepath.Join(pkgHostResolve(filepath.Dir(rel)), filepath.Base(rel))
		want[g] = &pkgWant{e: e, why: "installed"}
	}

	// The Info directory, see above.
	const infoDir = "usr/share/info/dir"
	if _, ok := refEntries[infoDir]; ok {
		scratch := filepath.Join(work, "infodir")
		pkgMkdir(t, scratch)
		if _, err := os.Lstat("/" + infoDir); err == nil {
			if r := runIn(t, scratch, "cp", "-p", "/"+infoDir, "dir"); r.code != 0 {
				t.Fatalf("copying the host's %s: %s", infoDir, r.stderr)
			}
		}
		infos, _ := filepath.Glob(filepath.Join(ref, "usr/share/info/*.info"))
		for _, info := range infos {
			if r := runIn(t, scratch, "install-info", "--info-dir="+scratch, info); r.code != 0 {
				t.Fatalf("install-info %s: exit %d %s", info, r.code, r.stderr)
			}
		}
		e, err := pkgStat(t, filepath.Join(scratch, "dir"))
		if err != nil {
			t.Fatal(err)
		}
		want[filepath.Join(pkgHostResolve(filepath.Dir(infoDir)), filepath.Base(infoDir))] = &pkgWant{e: e, why: "the host's Info directory with the installed entries added"}
		t.Logf("expected /%s: the host's with %d info file(s) added by install-info (%d bytes; DESTDIR's has %d)",
			infoDir, len(infos), e.size, refEntries[infoDir].size)
	}

	// Everything above an installed entry is in the stage.
	for g, w := range want {
		if w.optional {
			continue
		}
		for a := filepath.Dir(g); a != "."; a = filepath.Dir(a) {
			if wa, ok := want[a]; ok {
				wa.optional = false
				continue
			}
			he, ok := hostDir(a)
			if !ok {
				t.Fatalf("/%s (a parent of /%s) is neither in the native install nor a host directory", a, g)
			}
			want[a] = &pkgWant{e: he, why: "host directory above an installed file"}
		}
	}
	return want
}

// pkgCompare checks the tree at root against want, entry by entry.
func pkgCompare(t *testing.T, want map[string]*pkgWant, root string) {
	t.Helper()
	got := pkgScan(t, root)
	var errs []string
	for _, g := range pkgSorted(want) {
		w := want[g]
		e, ok := got[g]
		if !ok {
			if !w.optional {
				errs = append(errs, fmt.Sprintf("missing /%s: %s (%s)", g, w.e, w.why))
			}
			continue
		}
		if d := pkgDiff(w.e, e); d != "" {
			errs = append(errs, fmt.Sprintf("/%s: %s (%s)", g, d, w.why))
		}
	}
	for _, g := range pkgSorted(got) {
		if _, ok := want[g]; !ok {
			errs = append(errs, fmt.Sprintf("unexpected /%s: %s", g, got[g]))
		}
	}
	if len(errs) > 0 {
		if len(errs) > 60 {
			errs = append(errs[:60], fmt.Sprintf("... and %d more", len(errs)-60))
		}
		t.Errorf("%s differs from the expected install (%d entries expected, %d there):\n  %s",
			root, len(want), len(got), strings.Join(errs, "\n  "))
	}
}

func pkgSorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pkgGuestView: a later run on the stage sees the installed files (the
// stage wins over the host: zlib's headers replace the host's).
func pkgGuestView(t *testing.T, work, st string, want map[string]*pkgWant) {
	t.Helper()
	var files, links []string
	var wantOut, wantLinks strings.Builder
	for _, g := range pkgSorted(want) {
		switch e := want[g].e; e.typ {
		case "file":
			files = append(files, "/"+g)
			fmt.Fprintf(&wantOut, "%s  /%s\n", e.sum, g)
		case "symlink":
			links = append(links, "/"+g)
			fmt.Fprintf(&wantLinks, "%s\n", e.target)
		}
	}
	r := vroot(t, work, append([]string{"--stage", st, "--", "sha256sum", "--"}, files...)...)
	if r.code != 0 || r.stdout != wantOut.String() {
		t.Errorf("sha256sum of the installed files under vroot: exit %d\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, wantOut.String(), r.stderr)
	}
	if len(links) > 0 {
		r = vroot(t, work, append([]string{"--stage", st, "--", "readlink", "--"}, links...)...)
		if r.code != 0 || r.stdout != wantLinks.String() {
			t.Errorf("readlink of the installed symlinks under vroot: exit %d %q, want %q (stderr %q)", r.code, r.stdout, wantLinks.String(), r.stderr)
		}
	}
}

// ---------------------------------------------------------------- host

type pkgRoot struct {
	path  string
	depth int // 0: the path itself, 1: and its entries, -1: the whole tree
}

// pkgHostRoots: the host places an install to / could touch: a fixed list,
// plus every host directory the native install put something in (and its
// entries). Not /tmp, /var/tmp, /dev, /proc: granted, and busy.
func pkgHostRoots(ref string) []pkgRoot {
	roots := []pkgRoot{
		{"/etc", -1}, {"/usr/local", -1}, {"/usr/include", -1}, {"/usr/share/info", -1},
		{"/", 0}, {"/var", 0}, {"/usr", 1}, {"/usr/bin", 1}, {"/usr/sbin", 1}, {"/usr/lib", 1},
		{"/usr/share", 1}, {"/usr/share/man/man1", 1}, {"/usr/share/man/man3", 1},
	}
	multiarch, _ := filepath.Glob("/usr/lib/*-linux-gnu*")
	for _, m := range multiarch {
		roots = append(roots, pkgRoot{m, 1})
	}
	filepath.WalkDir(ref, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != ref {
			rel, _ := filepath.Rel(ref, p)
			roots = append(roots, pkgRoot{"/" + pkgHostResolve(rel), 1})
		}
		return nil
	})
	return roots
}

// pkgSnapshot records (mode, size, mtime) of every watched path.
func pkgSnapshot(roots []pkgRoot) map[string]string {
	snap := map[string]string{}
	add := func(p string) {
		fi, err := os.Lstat(p)
		if err != nil {
			if !os.IsNotExist(err) {
				snap[p] = "error: " + err.Error()
			}
			return
		}
		snap[p] = fmt.Sprintf("%v size %d mtime %s", fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
	}
	for _, r := range roots {
		switch r.depth {
		case -1:
			filepath.WalkDir(r.path, func(p string, d fs.DirEntry, err error) error {
				add(p)
				return nil
			})
		case 1:
			ents, _ := os.ReadDir(r.path)
			for _, e := range ents {
				add(filepath.Join(r.path, e.Name()))
			}
			fallthrough
		default:
			add(r.path)
		}
	}
	return snap
}

func pkgSameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	var errs []string
	for _, p := range pkgSorted(before) {
		if a, ok := after[p]; !ok {
			errs = append(errs, "host lost "+p)
		} else if a != before[p] {
			errs = append(errs, fmt.Sprintf("host changed %s: %s -> %s", p, before[p], a))
		}
	}
	for _, p := range pkgSorted(after) {
		if _, ok := before[p]; !ok {
			errs = append(errs, "host gained "+p+": "+after[p])
		}
	}
	if len(errs) > 0 {
		if len(errs) > 40 {
			errs = append(errs[:40], fmt.Sprintf("... and %d more", len(errs)-40))
		}
		t.Errorf("the host changed during the vroot run (%d paths watched):\n  %s", len(before), strings.Join(errs, "\n  "))
	}
}

// bgRun is a vroot started in the background by startUntil.
type bgRun struct {
	cmd  *exec.Cmd
	done chan error // receives Wait's result once
	out  bytes.Buffer
}

// startUntil starts argv as the user in its own process group, in dir, and
// returns once the file marker exists (the command reached the point the
// test wants). The group is killed when the test ends, so nothing it
// started outlives the test.
func startUntil(t *testing.T, dir, marker string, limit time.Duration, argv ...string) *bgRun {
	t.Helper()
	argv = asUser(argv...)
	b := &bgRun{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan error, 1)}
	b.cmd.Dir = dir
	b.cmd.Env = pkgEnv()
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() { syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) })
	deadline := time.Now().Add(pkgLimit(t, limit))
	for {
		if _, err := os.Stat(marker); err == nil {
			return b
		}
		select {
		case err := <-b.done:
			t.Fatalf("%q ended before %s appeared (%v):\n%s", argv, marker, err, pkgTailString(b.out.String()))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q: %s never appeared:\n%s", argv, marker, pkgTailString(b.out.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
