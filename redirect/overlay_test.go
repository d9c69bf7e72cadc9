package redirect

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/filemap"
)

// The overlay is checked against an oracle: a real overlayfs mount where
// the sandbox allows mounting (the lower tree as lowerdir), else a plain
// copy of the lower tree on which each operation runs natively. Every
// operation runs both ways: through the Resolver (resolve each path
// argument, run the syscall on the answers unless one is an errno or a
// Skip, then Commit), and natively on the oracle. The errnos must be the
// same, and after each operation so must the guest views: every name,
// its type as readdir gives it and as lstat gives it, its mode, a file's
// contents, a symlink's target.

var (
	overlayOnce sync.Once
	overlayOK   bool
	overlayWhy  string
)

// canMountOverlay tries an overlayfs mount once.
func canMountOverlay() bool {
	overlayOnce.Do(func() {
		if os.Getenv("VROOT_TEST_NO_OVERLAYFS") != "" {
			overlayWhy = "VROOT_TEST_NO_OVERLAYFS is set"
			return
		}
		dir, err := os.MkdirTemp("", "vroot-ovl-probe")
		if err != nil {
			overlayWhy = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		for _, d := range []string{"l", "u", "w", "m"} {
			os.Mkdir(filepath.Join(dir, d), 0o755)
		}
		if err := mountOverlay(dir+"/l", dir+"/u", dir+"/w", dir+"/m"); err != nil {
			overlayWhy = err.Error()
			return
		}
		unix.Unmount(dir+"/m", 0)
		overlayOK = true
	})
	return overlayOK
}

func mountOverlay(lower, upper, work, mnt string) error {
	// redirect_dir=off: a merged or lower directory cannot be renamed
	// (EXDEV), which is what vroot implements.
	return unix.Mount("overlay", mnt, "overlay", 0,
		fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=off,index=off,metacopy=off", lower, upper, work))
}

// sysop is one syscall: its path arguments as Request templates, and what
// it does with the paths it is given (host paths through the resolver,
// oracle paths natively).
type sysop struct {
	name string
	reqs []Request
	do   func(p []string) error
	// overlayErrno, when set, is what a merged tree says where a plain
	// directory would not (EXDEV): the copy oracle expects it instead of
	// running the syscall.
	overlayErrno syscall.Errno
	// pair resolves two paths together (ResolveRename, ResolveLink).
	pair func(r *Resolver, a, b Request) (Answer, Answer)
}

func sysErr(err error) error {
	if err == nil {
		return nil
	}
	return errno(err)
}

func openWrite(flags int, data string) func(p []string) error {
	return func(p []string) error {
		// O_NONBLOCK: a fifo without a reader is ENXIO, not a hang.
		fd, err := unix.Open(p[0], flags|unix.O_CLOEXEC|unix.O_NONBLOCK, 0o644)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if data != "" {
			_, err = unix.Write(fd, []byte(data))
		}
		return err
	}
}

var (
	rdWrite = Request{Op: OpWrite, Open: true, Follow: true}
)

func opAppend(data string) sysop {
	return sysop{name: "append", reqs: []Request{rdWrite}, do: openWrite(unix.O_WRONLY|unix.O_APPEND, data)}
}
func opTrunc(data string) sysop {
	r := rdWrite
	r.Trunc = true
	return sysop{name: "trunc", reqs: []Request{r}, do: openWrite(unix.O_WRONLY|unix.O_TRUNC, data)}
}
func opCreat(data string) sysop {
	return sysop{name: "creat", reqs: []Request{{Op: OpCreate, Open: true, Trunc: true, Follow: true}}, do: openWrite(unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, data)}
}
func opCreatAppend(data string) sysop {
	return sysop{name: "creat-append", reqs: []Request{{Op: OpCreate, Open: true, Follow: true}}, do: openWrite(unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND, data)}
}
func opExcl(data string) sysop {
	return sysop{name: "excl", reqs: []Request{{Op: OpCreate, Open: true, Excl: true}}, do: openWrite(unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, data)}
}
func opMkdir() sysop {
	return sysop{name: "mkdir", reqs: []Request{{Op: OpCreate, Excl: true}}, do: func(p []string) error { return unix.Mkdir(p[0], 0o755) }}
}
func opRmdir() sysop {
	return sysop{name: "rmdir", reqs: []Request{{Op: OpDelete, RemoveDir: true}}, do: func(p []string) error { return unix.Rmdir(p[0]) }}
}
func opUnlink() sysop {
	return sysop{name: "unlink", reqs: []Request{{Op: OpDelete}}, do: func(p []string) error { return unix.Unlink(p[0]) }}
}
func opRename() sysop {
	return sysop{name: "rename", reqs: []Request{{Op: OpMove}, {Op: OpCreate, Replace: true}}, do: func(p []string) error { return unix.Rename(p[0], p[1]) },
		pair: (*Resolver).ResolveRename}
}
func opRenameDir() sysop {
	o := opRename()
	o.overlayErrno = syscall.EXDEV
	return o
}
func opLink() sysop {
	return sysop{name: "link", reqs: []Request{{Op: OpWrite}, {Op: OpCreate, Excl: true}}, do: func(p []string) error { return unix.Link(p[0], p[1]) },
		pair: (*Resolver).ResolveLink}
}
func opSymlink(target string) sysop {
	return sysop{name: "symlink(" + target + ")", reqs: []Request{{Op: OpCreate, Excl: true}}, do: func(p []string) error { return unix.Symlink(target, p[0]) }}
}
func opChmod(mode uint32) sysop {
	return sysop{name: "chmod", reqs: []Request{{Op: OpWrite, Follow: true}}, do: func(p []string) error { return unix.Chmod(p[0], mode) }}
}
func opMkfifo() sysop {
	return sysop{name: "mkfifo", reqs: []Request{{Op: OpCreate, Excl: true}}, do: func(p []string) error { return unix.Mkfifo(p[0], 0o644) }}
}
func opTruncate(n int64) sysop {
	return sysop{name: "truncate", reqs: []Request{{Op: OpWrite, Follow: true}}, do: func(p []string) error { return unix.Truncate(p[0], n) }}
}
func opUtimes() sysop {
	return sysop{name: "utimes", reqs: []Request{{Op: OpWrite, Follow: true}}, do: func(p []string) error {
		ts := []unix.Timespec{{Sec: 1000000000}, {Sec: 1000000000}}
		return unix.UtimesNano(p[0], ts)
	}}
}

// ovEnv is a lower tree seen through a Resolver with a stage, and the
// oracle of the same tree.
type ovEnv struct {
	t       testing.TB
	lower   string
	more    []string // lower layers below lower
	oracle  string   // the guest root on the oracle side
	overlay bool     // the oracle is an overlayfs mount
	stage   *Stage
	stDir   string
	r       *Resolver
	lowerV  map[string]string // the lower tree before anything ran
	perPath bool              // resolve rename and link one path at a time
	// chroot runs the oracle's syscalls on a thread chrooted into the
	// oracle, so that its symlinks resolve as the guest's do (a "../x" at
	// the top stays there); nil when that cannot be done (not root).
	chroot chan func()
}

// chrootThread starts a goroutine locked to a thread whose root is dir
// (its own fs_struct: unshare(CLONE_FS)), running the functions sent to it.
// The thread is never unlocked, so it ends with the goroutine when the
// channel is closed.
func chrootThread(dir string) (chan func(), error) {
	c := make(chan func())
	errc := make(chan error)
	var worker func(locked chan<- struct{})
	worker = func(locked chan<- struct{}) {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread's root and cwd are the process's
			// (/proc/self/root, /proc/self/cwd): hand over to a thread
			// started while this one is held.
			mine := make(chan struct{})
			go worker(mine)
			<-mine
			close(locked)
			runtime.UnlockOSThread()
			return
		}
		close(locked)
		err := unix.Unshare(unix.CLONE_FS)
		if err == nil {
			err = unix.Chroot(dir)
		}
		if err == nil {
			err = unix.Chdir("/")
		}
		errc <- err
		if err != nil {
			return
		}
		for f := range c {
			f()
		}
	}
	locked := make(chan struct{})
	go worker(locked)
	<-locked
	return c, <-errc
}

func newOvEnv(t testing.TB, useOverlay bool, setup func(lower string), specs ...string) *ovEnv {
	t.Helper()
	return newOvEnvLayers(t, useOverlay, setup, specs)
}

// newOvEnvLayers is newOvEnv with several lower layers, topmost first (the
// overlayfs oracle only).
func newOvEnvLayers(t testing.TB, useOverlay bool, setup func(lower string), layers ...[]string) *ovEnv {
	t.Helper()
	base := t.TempDir()
	e := &ovEnv{t: t, lower: filepath.Join(base, "lower"), overlay: useOverlay}
	os.Mkdir(e.lower, 0o755)
	parseTree(layers[0]...).write(t, e.lower)
	if setup != nil {
		setup(e.lower)
	}
	for i, l := range layers[1:] {
		d := filepath.Join(base, fmt.Sprintf("lower%d", i+2))
		os.Mkdir(d, 0o755)
		parseTree(l...).write(t, d)
		e.more = append(e.more, d)
	}
	if len(e.more) > 0 && !useOverlay {
		t.Fatal("several lower layers need the overlayfs oracle")
	}
	if useOverlay {
		for _, d := range []string{"upper", "work", "mnt"} {
			os.Mkdir(filepath.Join(base, d), 0o755)
		}
		e.oracle = filepath.Join(base, "mnt")
		if err := mountOverlay(strings.Join(append([]string{e.lower}, e.more...), ":"), base+"/upper", base+"/work", e.oracle); err != nil {
			t.Fatalf("mount: %v", err)
		}
		t.Cleanup(func() { unix.Unmount(e.oracle, unix.MNT_DETACH) })
	} else {
		e.oracle = filepath.Join(base, "copy")
		if out, err := exec.Command("cp", "-a", e.lower, e.oracle).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
	}
	if c, err := chrootThread(e.oracle); err == nil {
		e.chroot = c
		t.Cleanup(func() { close(c) })
	} else {
		t.Logf("oracle without chroot (%v): symlinks that climb above the top are not exact", err)
	}
	e.stDir = filepath.Join(base, "stage")
	e.open()
	e.lowerV = e.lowerViews()
	return e
}

// lowerViews is every lower layer's tree, with times.
func (e *ovEnv) lowerViews() map[string]string {
	v := hostView(e.t, e.lower, true)
	for i, d := range e.more {
		for k, x := range hostView(e.t, d, true) {
			v[fmt.Sprintf("%d:%s", i+2, k)] = x
		}
	}
	return v
}

// open (re)opens the stage and builds a fresh Resolver over it.
func (e *ovEnv) open() {
	s, err := OpenStage(e.stDir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.stage = s
	e.t.Cleanup(func() { s.Close() })
	m, err := filemap.New([]filemap.Rule{redirect("/", append([]string{e.lower}, e.more...)...)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.r = New(m, Options{Stage: s})
}

// reopen closes the stage (compacting its journal) and opens it again in a
// new Resolver.
func (e *ovEnv) reopen() {
	if err := e.stage.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// crashReopen drops the stage as a killed vroot would (no compaction, the
// lock released by the kernel) and opens it again.
func (e *ovEnv) crashReopen() {
	e.stage.journal.Close()
	e.stage.lock.Close()
	e.stage.closed = true
	e.open()
}

// via runs op through the Resolver.
func (e *ovEnv) via(op sysop, guests ...string) error {
	var ans []Answer
	commit := func(ok bool) {
		for _, a := range ans {
			if a.After != AfterNone {
				e.r.Commit(a, ok)
			}
		}
	}
	var hosts []string
	if op.pair != nil && !e.perPath {
		a, b := op.reqs[0], op.reqs[1]
		a.Path, b.Path = guests[0], guests[1]
		x, y := op.pair(e.r, a, b)
		if x.Errno != 0 || y.Errno != 0 {
			if x.Errno != y.Errno || x.After != AfterNone || y.After != AfterNone {
				e.t.Errorf("%s %v: a failure in one answer only: %+v %+v", op.name, guests, x, y)
			}
			return x.Errno
		}
		if x.Skip || y.Skip {
			if !x.Skip || !y.Skip {
				e.t.Errorf("%s %v: Skip in one answer only: %+v %+v", op.name, guests, x, y)
			}
			return nil
		}
		ans = []Answer{x, y}
		err := sysErr(op.do([]string{x.Host, y.Host}))
		commit(err == nil)
		return err
	}
	for i, req := range op.reqs {
		req.Path = guests[i]
		a := e.r.Resolve(req)
		if a.Errno != 0 {
			commit(false)
			return a.Errno
		}
		ans = append(ans, a)
		hosts = append(hosts, a.Host)
		if a.Skip {
			if len(op.reqs) != 1 {
				e.t.Fatalf("%s: Skip on a %d-path syscall", op.name, len(op.reqs))
			}
			return nil
		}
	}
	err := sysErr(op.do(hosts))
	commit(err == nil)
	return err
}

// native runs op on the oracle.
func (e *ovEnv) native(op sysop, guests ...string) error {
	if !e.overlay && op.overlayErrno != 0 {
		return op.overlayErrno
	}
	if e.chroot != nil {
		var err error
		done := make(chan bool)
		e.chroot <- func() {
			err = sysErr(op.do(guests))
			done <- true
		}
		<-done
		return err
	}
	var ps []string
	for _, g := range guests {
		ps = append(ps, e.oracle+g)
	}
	return sysErr(op.do(ps))
}

// step runs op both ways and compares errnos and views.
func (e *ovEnv) step(op sysop, guests ...string) error {
	e.t.Helper()
	want := e.native(op, guests...)
	got := e.via(op, guests...)
	if errno(got) != errno(want) {
		e.t.Errorf("%s %v: got %v, want %v", op.name, guests, got, want)
	}
	e.check(fmt.Sprintf("after %s %v", op.name, guests))
	return got
}

// check compares the guest view with the oracle's, and checks that the
// lower tree was not touched.
func (e *ovEnv) check(when string) {
	e.t.Helper()
	got := guestView(e.t, e.r)
	want := hostView(e.t, e.oracle, false)
	if d := diffViews(got, want); d != "" {
		e.t.Errorf("%s: guest view differs from the oracle (got/want):\n%s", when, d)
	}
	if d := diffViews(e.lowerViews(), e.lowerV); d != "" {
		e.t.Fatalf("%s: the lower tree changed:\n%s", when, d)
	}
}

func diffViews(got, want map[string]string) string {
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "  %s: %q / %q\n", k, got[k], want[k])
		}
	}
	return b.String()
}

func typeChar(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return "d"
	case unix.S_IFLNK:
		return "l"
	case unix.S_IFIFO:
		return "p"
	case unix.S_IFREG:
		return "f"
	}
	return "?"
}

func direntChar(t fs.FileMode) string {
	switch {
	case t&fs.ModeDir != 0:
		return "d"
	case t&fs.ModeSymlink != 0:
		return "l"
	case t&fs.ModeNamedPipe != 0:
		return "p"
	case t.IsRegular():
		return "f"
	}
	return "?"
}

// describeHost is what a view says of a host object: lstat type, mode,
// a symlink's target or a file's contents; dtype is the listing's type.
func describeHost(p, dtype string, withTimes bool) string {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return dtype + " lstat:" + err.Error()
	}
	s := fmt.Sprintf("%s %s %04o", dtype, typeChar(st.Mode), st.Mode&0o7777)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		tgt, _ := os.Readlink(p)
		s = fmt.Sprintf("%s %s -> %s", dtype, typeChar(st.Mode), tgt)
	case unix.S_IFREG:
		b, err := os.ReadFile(p)
		if err != nil {
			s += " read:" + err.Error()
		}
		s += " " + string(b)
	}
	if withTimes && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		s += fmt.Sprintf(" @%d.%d", st.Mtim.Sec, st.Mtim.Nsec)
	}
	return s
}

// hostView walks a plain host tree.
func hostView(tb testing.TB, root string, withTimes bool) map[string]string {
	v := map[string]string{"/": describeHost(root, "d", false)}
	var walk func(g string)
	walk = func(g string) {
		des, err := os.ReadDir(root + g)
		if err != nil {
			v[g] += " readdir:" + err.Error()
			return
		}
		for _, de := range des {
			cg := join(g, de.Name())
			v[cg] = describeHost(root+cg, direntChar(de.Type()), withTimes)
			if de.IsDir() {
				walk(cg)
			}
		}
	}
	walk("/")
	return v
}

// guestView walks the guest view through the resolver: each directory is
// opened for reading as the tracer would ask, each name lstat'ed.
func guestView(tb testing.TB, r *Resolver) map[string]string {
	v := map[string]string{}
	a := r.Resolve(Request{Path: "/", Op: OpRead, Follow: false})
	v["/"] = describeHost(a.Host, "d", false)
	var walk func(g string)
	walk = func(g string) {
		a := r.Resolve(Request{Path: g, Op: OpRead, Open: true, Follow: true})
		if a.Errno != 0 {
			v[g] += " open:" + a.Errno.Error()
			return
		}
		des, err := os.ReadDir(a.Host)
		if err != nil {
			v[g] += " readdir:" + err.Error()
			return
		}
		for _, de := range des {
			cg := join(g, de.Name())
			ca := r.Resolve(Request{Path: cg, Op: OpRead})
			if ca.Errno != 0 {
				v[cg] = direntChar(de.Type()) + " resolve:" + ca.Errno.Error()
				continue
			}
			v[cg] = describeHost(ca.Host, direntChar(de.Type()), false)
			if de.IsDir() {
				walk(cg)
			}
		}
	}
	walk("/")
	return v
}

type oracleMode struct {
	name    string
	overlay bool // overlayfs, else a plain copy
	perPath bool // rename and link resolved one path at a time
}

// oracleModes lists the ways a conformance test runs: against overlayfs
// and a plain copy, and against overlayfs with the two-path syscalls
// resolved one path at a time (Resolve), as a tracer that does not use
// ResolveRename and ResolveLink would.
func oracleModes(t *testing.T) []oracleMode {
	if canMountOverlay() {
		return []oracleMode{{"overlayfs", true, false}, {"copy", false, false}, {"overlayfs-per-path", true, true}}
	}
	t.Logf("no overlayfs oracle (%s): comparing with a plain copy only", overlayWhy)
	return []oracleMode{{"copy", false, false}, {"copy-per-path", false, true}}
}

type ovStep struct {
	op    sysop
	paths []string
}

func st(op sysop, paths ...string) ovStep { return ovStep{op, paths} }

// baseLower is the lower tree most conformance cases start from.
var baseLower = []string{
	"usr/bin/cc=cc-binary",
	"usr/bin/tool=tool",
	"usr/lib/libz.so.1=libz",
	"usr/lib/libz.so->libz.so.1",
	"usr/lib/pkg/",
	"usr/share/doc/a=doc-a",
	"usr/share/doc/b=doc-b",
	"usr/share/doc/sub/c=doc-c",
	"usr/share/empty/",
	"etc/conf=conf",
	"etc/conf.d/:0750",
	"etc/conf.d/x=x",
	"opt/:0711",
	"opt/vendor/:0705",
	"opt/vendor/lib/:0750",
	"opt/vendor/lib/f=vendor-f",
	"srv/",
	"lnk->usr/share/doc",
	"dangling->nowhere",
}

// TestOverlayConformance: one case per row of the design's overlay table,
// and the interplays between them.
func TestOverlayConformance(t *testing.T) {
	fifoLower := append(append([]string{}, baseLower...), "fifo-here/")
	modes := oracleModes(t)
	for _, tc := range []struct {
		name  string
		lower []string
		setup func(dir string) // extra lower content (fifos)
		steps []ovStep
	}{
		{name: "read through", steps: nil},
		{name: "copy-up on write keeps contents and mode", steps: []ovStep{
			st(opChmod(0o640), "/etc/conf"), // (itself a copy-up)
			st(opAppend("+more"), "/etc/conf"),
			st(opAppend("+1"), "/usr/bin/cc"),
			st(opAppend("x"), "/missing"),
			st(opAppend("x"), "/etc/conf/"),
		}},
		{name: "O_TRUNC copy-up", steps: []ovStep{
			st(opTrunc("new"), "/usr/lib/libz.so.1"),
			st(opTrunc("via-link"), "/usr/lib/libz.so"),
			st(opTruncate(2), "/usr/bin/tool"),
		}},
		{name: "create with missing parents", steps: []ovStep{
			st(opCreat("new"), "/opt/vendor/lib/sub-missing/x"),
			st(opCreat("new"), "/opt/vendor/lib/new"),
			st(opMkdir(), "/etc/conf.d/newdir"),
			st(opExcl("e"), "/etc/conf.d/newdir/file"),
			st(opCreat("c"), "/srv/c"),
		}},
		{name: "create on existing names", steps: []ovStep{
			st(opMkdir(), "/usr/lib"),
			st(opMkdir(), "/usr/lib/"),
			st(opMkdir(), "/etc/conf"),
			st(opMkdir(), "/dangling"),
			st(opExcl("x"), "/etc/conf"),
			st(opCreatAppend("+appended"), "/etc/conf"),
			st(opCreat("truncated"), "/usr/bin/tool"),
			st(opCreat("x"), "/usr/lib"),
			st(opCreat("x"), "/usr/new/"),
			st(opSymlink("t"), "/usr/bin/cc"),
			st(opMkfifo(), "/usr/bin/cc"),
			st(opCreat("through-dangling"), "/dangling"),
		}},
		{name: "unlink and rmdir of lower entries", steps: []ovStep{
			st(opUnlink(), "/usr/share/doc/a"),
			st(opUnlink(), "/usr/share/doc/a"),
			st(opUnlink(), "/usr/share/doc/sub"),
			st(opRmdir(), "/usr/share/doc/b"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opUnlink(), "/usr/share/doc/sub/c"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opRmdir(), "/usr/share/empty/"),
			st(opUnlink(), "/usr/lib/libz.so/"),
			st(opUnlink(), "/usr/lib/libz.so"),
			st(opRmdir(), "/lnk"),
			st(opUnlink(), "/lnk"),
			st(opRmdir(), "/usr/share/doc"),
			st(opUnlink(), "/usr/share/doc/b"),
			st(opRmdir(), "/usr/share/doc"),
			st(opUnlink(), "/nope"),
			st(opRmdir(), "/nope"),
		}},
		{name: "unlink and rmdir of staged entries over lower ones", steps: []ovStep{
			st(opAppend("+"), "/usr/share/doc/a"),
			st(opUnlink(), "/usr/share/doc/a"),
			st(opCreat("new"), "/usr/share/doc/sub/new"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opUnlink(), "/usr/share/doc/sub/new"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opUnlink(), "/usr/share/doc/sub/c"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opCreat("fresh"), "/usr/share/doc/fresh"),
			st(opUnlink(), "/usr/share/doc/fresh"),
		}},
		{name: "rename", steps: []ovStep{
			st(opRename(), "/usr/bin/tool", "/usr/bin/tool2"),
			st(opRename(), "/usr/lib/libz.so", "/usr/lib/libz-link"),
			st(opRename(), "/usr/share/doc/a", "/usr/share/doc/b"),
			st(opRenameDir(), "/usr/share/doc/sub", "/usr/share/doc/sub2"),
			st(opRenameDir(), "/usr/share/empty", "/usr/share/empty2"),
			st(opRename(), "/usr/bin/tool2", "/opt/vendor/lib/new-parent/x"),
			st(opRename(), "/usr/bin/tool2", "/opt/vendor/tool"),
			st(opRename(), "/nope", "/usr/x"),
			st(opRename(), "/etc/conf", "/usr/share/empty"),
			st(opRename(), "/etc/conf", "/etc/conf"),
			st(opRename(), "/etc/conf/", "/etc/conf2"),
		}},
		{name: "rename staged directories", steps: []ovStep{
			st(opMkdir(), "/srv/new"),
			st(opCreat("in-new"), "/srv/new/f"),
			st(opRename(), "/srv/new", "/srv/renamed"),
			st(opRename(), "/srv/renamed", "/usr/share/empty"),
			st(opRenameDir(), "/usr/share", "/usr/share2"),
			st(opCreat("c"), "/usr/share/doc/copied-up-parent"),
			st(opRenameDir(), "/usr/share/doc", "/usr/doc"),
			st(opRmdir(), "/usr/share/doc/sub/"),
			st(opUnlink(), "/usr/share/doc/sub/c"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opMkdir(), "/usr/share/doc/sub"),
			st(opRename(), "/usr/share/doc/sub", "/usr/share/doc/sub-moved"),
		}},
		{name: "rename over lower names", steps: []ovStep{
			st(opCreat("new-conf"), "/srv/conf"),
			st(opRename(), "/srv/conf", "/etc/conf"),
			st(opMkdir(), "/srv/d"),
			st(opRename(), "/srv/d", "/usr/lib/pkg"),
			st(opCreat("x"), "/usr/lib/pkg/x"),
			st(opMkdir(), "/srv/d2"),
			st(opRename(), "/srv/d2", "/usr/share/doc"),
			st(opRename(), "/srv/d2", "/usr/bin/cc"),
			st(opRename(), "/usr/bin/cc", "/usr/bin/tool"),
		}},
		{name: "link to a lower file", steps: []ovStep{
			st(opLink(), "/usr/bin/cc", "/usr/bin/cc-link"),
			st(opAppend("+shared"), "/usr/bin/cc-link"),
			st(opLink(), "/usr/lib/libz.so.1", "/srv/libz"),
			st(opLink(), "/usr/bin/tool", "/usr/bin/cc"),
			st(opLink(), "/usr/share/doc", "/srv/doc"),
			st(opLink(), "/nope", "/srv/nope"),
		}},
		{name: "symlink shadowing a lower file", steps: []ovStep{
			st(opUnlink(), "/usr/bin/cc"),
			st(opSymlink("tool"), "/usr/bin/cc"),
			st(opAppend("+via-link"), "/usr/bin/cc"),
			st(opSymlink("../lib"), "/usr/bin/newlink"),
			st(opSymlink("x"), "/lnk"),
		}},
		{name: "chmod and utimes on lower entries", steps: []ovStep{
			st(opChmod(0o600), "/usr/bin/cc"),
			st(opChmod(0o700), "/usr/share/doc"),
			st(opChmod(0o755), "/lnk"),
			st(opChmod(0o644), "/nope"),
			st(opUtimes(), "/usr/lib/libz.so"),
			st(opChmod(0o751), "/"),
		}},
		{name: "merged listings", lower: fifoLower, setup: func(dir string) {
			unix.Mkfifo(dir+"/fifo-here/p", 0o644)
		}, steps: []ovStep{
			st(opCreat("n"), "/usr/share/doc/new"),
			st(opMkdir(), "/usr/share/doc/newdir"),
			st(opSymlink("a"), "/usr/share/doc/newlink"),
			st(opMkfifo(), "/usr/share/doc/newfifo"),
			st(opUnlink(), "/usr/share/doc/b"),
			st(opCreat("n2"), "/usr/share/doc/new2"),
			st(opUnlink(), "/usr/share/doc/new"),
			st(opCreat("n"), "/fifo-here/new"),
			st(opAppend("p"), "/fifo-here/new"),
			st(opUnlink(), "/fifo-here/p"),
		}},
		{name: "rmdir then mkdir is opaque", steps: []ovStep{
			st(opUnlink(), "/usr/share/doc/sub/c"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opMkdir(), "/usr/share/doc/sub"),
			st(opUnlink(), "/usr/share/doc/a"),
			st(opUnlink(), "/usr/share/doc/b"),
			st(opRmdir(), "/usr/share/doc"),
			st(opMkdir(), "/usr/share/doc"),
			st(opCreat("again"), "/usr/share/doc/a"),
			st(opRmdir(), "/usr/share/doc/sub"),
			st(opCreat("deeper"), "/usr/share/doc/sub/c"),
		}},
		{name: "fifo copy-up", lower: fifoLower, setup: func(dir string) {
			unix.Mkfifo(dir+"/fifo-here/p", 0o640)
		}, steps: []ovStep{
			st(opChmod(0o600), "/fifo-here/p"),
			st(opRename(), "/fifo-here/p", "/fifo-here/q"),
		}},
	} {
		for _, mode := range modes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				lower := tc.lower
				if lower == nil {
					lower = baseLower
				}
				e := newOvEnv(t, mode.overlay, tc.setup, lower...)
				e.perPath = mode.perPath
				e.check("at start")
				for _, s := range tc.steps {
					e.step(s.op, s.paths...)
				}
				// The marks survive: a clean close and a crash.
				e.reopen()
				e.check("after reopening the stage")
				e.crashReopen()
				e.check("after a crash")
			})
		}
	}
}

// TestOverlayRandom runs random sequences of operations on random lower
// trees, through the Resolver and on an overlayfs mount, and compares
// errnos and views after every step.
func TestOverlayRandom(t *testing.T) {
	if !canMountOverlay() {
		t.Skipf("no overlayfs oracle: %s", overlayWhy)
	}
	seeds, steps := 60, 40
	if testing.Short() {
		seeds = 10
	}
	if n, err := strconv.Atoi(os.Getenv("VROOT_OVERLAY_SEEDS")); err == nil {
		seeds = n // a longer run: VROOT_OVERLAY_SEEDS=2000
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rnd := newRand(uint64(seed))
			specs := [][]string{randomTree(rnd)}
			if seed%3 == 0 {
				// Two lower layers, as with --sdk.
				specs = append(specs, randomTree(rnd))
			}
			e := newOvEnvLayers(t, true, nil, specs...)
			// VROOT_OVERLAY_PER_PATH=1: rename and link resolved one path at
			// a time (their errnos may then differ when both paths fail).
			e.perPath = os.Getenv("VROOT_OVERLAY_PER_PATH") != ""
			log := []string{fmt.Sprintf("lower %q", specs)}
			for i := 0; i < steps; i++ {
				op, paths := randomOp(rnd)
				want := e.native(op, paths...)
				got := e.via(op, paths...)
				log = append(log, fmt.Sprintf("%s %v -> %v", op.name, paths, want))
				if errno(got) != errno(want) && !knownDivergence(op, got, want) {
					t.Fatalf("%s %v: got %v, want %v\nsteps:\n  %s", op.name, paths, got, want, strings.Join(log, "\n  "))
				}
				gv, wv := guestView(t, e.r), hostView(t, e.oracle, false)
				if d := diffViews(gv, wv); d != "" {
					t.Fatalf("after %s %v: views differ (got/want):\n%s\nsteps:\n  %s", op.name, paths, d, strings.Join(log, "\n  "))
				}
			}
			e.reopen()
			if d := diffViews(guestView(t, e.r), hostView(t, e.oracle, false)); d != "" {
				t.Fatalf("after reopening: views differ (got/want):\n%s\nsteps:\n  %s", d, strings.Join(log, "\n  "))
			}
			if d := diffViews(e.lowerViews(), e.lowerV); d != "" {
				t.Fatalf("the lower tree changed:\n%s", d)
			}
		})
	}
}

// knownDivergence: rename of a non-directory over a non-empty lower
// directory gets ENOTEMPTY (documented in replace).
func knownDivergence(op sysop, got, want error) bool {
	return op.name == "rename" && errno(got) == syscall.ENOTEMPTY && errno(want) == syscall.EISDIR
}

// rnd is a small deterministic generator (xorshift).
type rnd struct{ s uint64 }

func newRand(seed uint64) *rnd { return &rnd{s: seed*0x9e3779b97f4a7c15 + 1} }

func (r *rnd) n(k int) int {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return int(r.s % uint64(k))
}

func (r *rnd) pick(xs ...string) string { return xs[r.n(len(xs))] }

var randNames = []string{"a", "b", "c"}

func randomTree(r *rnd) []string {
	var specs []string
	t := tree{}
	for i := 0; i < 14; i++ {
		depth := 1 + r.n(3)
		var parts []string
		for j := 0; j < depth; j++ {
			parts = append(parts, r.pick(randNames...))
		}
		p := strings.Join(parts, "/")
		if _, ok := t[p]; ok || !roomFor(t, p) {
			continue
		}
		var spec string
		switch r.n(4) {
		case 0, 1:
			spec = p + "/"
			t[p] = node{kind: 'd'}
		case 2:
			spec = p + "=" + p
			t[p] = node{kind: 'f'}
		case 3:
			tgt := r.pick("a", "b", "c", "nowhere")
			if depth > 1 && r.n(2) == 0 {
				tgt = "../" + tgt
			}
			spec = p + "->" + tgt
			t[p] = node{kind: 'l'}
		}
		for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
			if _, ok := t[d]; !ok {
				t[d] = node{kind: 'd'}
			}
		}
		specs = append(specs, spec)
	}
	return specs
}

func randomPath(r *rnd) string {
	depth := 1 + r.n(3)
	p := ""
	for j := 0; j < depth; j++ {
		p += "/" + r.pick(randNames...)
	}
	if r.n(10) == 0 {
		p += "/"
	}
	return p
}

func randomOp(r *rnd) (sysop, []string) {
	p, q := randomPath(r), randomPath(r)
	switch r.n(13) {
	case 0:
		return opAppend("+w"), []string{p}
	case 1:
		return opTrunc("t"), []string{p}
	case 2:
		return opCreat("c"), []string{p}
	case 3:
		return opExcl("x"), []string{p}
	case 4:
		return opMkdir(), []string{p}
	case 5:
		return opRmdir(), []string{p}
	case 6:
		return opUnlink(), []string{p}
	case 7, 8:
		return opRename(), []string{p, q}
	case 9:
		return opLink(), []string{p, q}
	case 10:
		return opSymlink(r.pick("a", "../b", "nowhere")), []string{p}
	case 11:
		return opChmod(uint32(0o700 + r.n(0o100))), []string{p}
	}
	return opMkfifo(), []string{p}
}
