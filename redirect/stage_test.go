package redirect

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/filemap"
)

// do runs one syscall through r the way the tracer does: resolve, run it
// on the answer unless it failed or is already done, commit.
func do(t *testing.T, r *Resolver, req Request, fn func(host string) error) error {
	t.Helper()
	a := r.Resolve(req)
	if a.Errno != 0 {
		return a.Errno
	}
	if a.Skip {
		return nil
	}
	err := fn(a.Host)
	if a.After != AfterNone {
		r.Commit(a, err == nil)
	}
	return err
}

func TestCopyUpKeepsAttributes(t *testing.T) {
	low := mkTree(t, "d/sub/f=lower-contents", "d/big=0123456789")
	old := time.Date(2001, 2, 3, 4, 5, 6, 7000, time.UTC)
	for _, p := range []string{"d/sub/f", "d/big", "d/sub", "d"} {
		os.Chtimes(filepath.Join(low, p), old, old)
	}
	os.Chmod(low+"/d/sub/f", 0o751)
	os.Chmod(low+"/d/sub", 0o710)
	s := newStage(t)
	r := newResolver(t, Options{Stage: s}, redirect("/", low))

	// Open for writing, write nothing: contents, mode and times copied.
	if err := do(t, r, Request{Path: "/d/sub/f", Op: OpWrite, Open: true, Follow: true}, func(h string) error {
		if h != s.Root()+"/d/sub/f" {
			t.Errorf("host %q, want the stage", h)
		}
		f, err := os.OpenFile(h, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"d/sub/f", "d/sub", "d"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(s.Root(), p), &st); err != nil {
			t.Fatal(err)
		}
		var lst unix.Stat_t
		unix.Lstat(filepath.Join(low, p), &lst)
		if st.Mode != lst.Mode {
			t.Errorf("%s: mode %o, want %o", p, st.Mode, lst.Mode)
		}
		if st.Mtim != lst.Mtim {
			t.Errorf("%s: mtime %v, want %v (the lower one)", p, st.Mtim, lst.Mtim)
		}
	}
	if b, _ := os.ReadFile(s.Root() + "/d/sub/f"); string(b) != "lower-contents" {
		t.Errorf("contents %q", b)
	}
	// O_TRUNC: nothing is copied.
	before := copiedBytes.Load()
	if err := do(t, r, Request{Path: "/d/big", Op: OpWrite, Open: true, Trunc: true, Follow: true}, func(h string) error {
		return os.WriteFile(h, []byte("new"), 0)
	}); err != nil {
		t.Fatal(err)
	}
	if n := copiedBytes.Load() - before; n != 0 {
		t.Errorf("O_TRUNC copy-up copied %d bytes", n)
	}
	if b, _ := os.ReadFile(s.Root() + "/d/big"); string(b) != "new" {
		t.Errorf("contents %q", b)
	}
	// No temporary file is left.
	if ents, _ := os.ReadDir(filepath.Join(s.Dir(), ".vroot/tmp")); len(ents) != 0 {
		t.Errorf("tmp holds %v", ents)
	}
}

func TestCopyUpDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a device in the lower tree")
	}
	low := mkTree(t, "dev/")
	if err := unix.Mknod(low+"/dev/null", unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skip(err)
	}
	s := newStage(t)
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	if a := r.Resolve(Request{Path: "/dev/null", Op: OpWrite, Follow: true}); a.Errno != syscall.EPERM {
		t.Errorf("chmod of a lower device: %+v, want EPERM", a)
	}
	// Opening it for writing copies nothing: the lower device is opened.
	if a := r.Resolve(Request{Path: "/dev/null", Op: OpWrite, Open: true, Follow: true}); a.Errno != 0 || a.Host != low+"/dev/null" {
		t.Errorf("open of a lower device for writing: %+v", a)
	}
}

// TestConcurrentCopyUp: threads writing the same lower file share one copy.
func TestConcurrentCopyUp(t *testing.T) {
	low := mkTree(t, "f=contents")
	s := newStage(t)
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	var wg sync.WaitGroup
	hosts := make([]string, 8)
	for i := range hosts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := r.Resolve(Request{Path: "/f", Op: OpWrite, Open: true, Follow: true})
			hosts[i] = a.Host
			r.Commit(a, true)
		}(i)
	}
	wg.Wait()
	for _, h := range hosts {
		if h != s.Root()+"/f" {
			t.Errorf("host %q", h)
		}
	}
	if b, _ := os.ReadFile(s.Root() + "/f"); string(b) != "contents" {
		t.Errorf("contents %q", b)
	}
}

func TestNoStageIsReadOnly(t *testing.T) {
	low := mkTree(t, "d/f=x", "d/sub/")
	work := mkTree(t, "ro/")
	r := newResolver(t, Options{}, grant("/"), redirect(work+"/ro", low))
	for _, c := range []struct {
		req  Request
		want syscall.Errno
	}{
		{Request{Path: "/d/f", Op: OpWrite, Open: true, Follow: true}, syscall.EROFS},
		{Request{Path: "/d/f", Op: OpWrite, Follow: true}, syscall.EROFS},
		{Request{Path: "/d/missing", Op: OpWrite, Open: true, Follow: true}, syscall.ENOENT},
		{Request{Path: "/d/sub", Op: OpWrite, Open: true, Follow: true}, syscall.EISDIR},
		{Request{Path: "/d/new", Op: OpCreate, Open: true, Follow: true}, syscall.EROFS},
		{Request{Path: "/d/sub", Op: OpCreate, Excl: true}, syscall.EEXIST},
		{Request{Path: "/d/new", Op: OpCreate, Excl: true}, syscall.EROFS},
		{Request{Path: "/d/f", Op: OpDelete}, syscall.EROFS},
		{Request{Path: "/d/sub", Op: OpDelete, RemoveDir: true}, syscall.EROFS},
		{Request{Path: "/d/f", Op: OpMove}, syscall.EROFS},
		{Request{Path: "/d/f", Op: OpCreate, Replace: true}, syscall.EROFS},
		{Request{Path: "/d/.", Op: OpWrite, Follow: true}, syscall.EROFS},
	} {
		c.req.Path = work + "/ro" + c.req.Path
		a := r.Resolve(c.req)
		if a.Errno != c.want || a.Rule == nil || a.Rule.Action != filemap.Redirect {
			t.Errorf("%+v: %+v, want %v by the redirect rule", c.req, a, c.want)
		}
	}
	// Grants are written as ever.
	if a := r.Resolve(Request{Path: work + "/new", Op: OpCreate, Excl: true}); a.Errno != 0 || a.Host != work+"/new" {
		t.Errorf("grant: %+v", a)
	}
	// And the identity fast path too.
	id := newResolver(t, Options{}, redirect("/"), grant(work))
	if !id.identity {
		t.Fatal("not identity")
	}
	if a := id.Resolve(Request{Path: low + "/d/f", Op: OpWrite, Open: true, Follow: true}); a.Errno != syscall.EROFS {
		t.Errorf("identity redirect write: %+v", a)
	}
	if a := id.Resolve(Request{Path: work + "/x", Op: OpCreate, Open: true, Follow: true}); a.Errno != 0 || a.Host != work+"/x" {
		t.Errorf("identity grant write: %+v", a)
	}
}

func TestStageLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenStage(dir)
	want := fmt.Sprintf("stage %s is in use by another vroot (pid %d)", dir, os.Getpid())
	if err == nil || err.Error() != want {
		t.Errorf("second open: %v, want %q", err, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenStage(dir)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	s2.Close()
}

func TestStageFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if b, _ := os.ReadFile(dir + "/.vroot/format"); string(b) != "vroot-stage 1\n" {
		t.Errorf("format file %q", b)
	}
	os.WriteFile(dir+"/.vroot/format", []byte("vroot-stage 2\n"), 0o644)
	if _, err := OpenStage(dir); err == nil || !strings.Contains(err.Error(), `unsupported format "vroot-stage 2"`) {
		t.Errorf("another format: %v", err)
	}
	other := mkTree(t, "precious=data")
	if _, err := OpenStage(other); err == nil || !strings.Contains(err.Error(), "not a vroot stage") {
		t.Errorf("a directory that is not a stage: %v", err)
	}
	if _, err := os.Stat(other + "/root"); err == nil {
		t.Error("OpenStage wrote into a directory it refused")
	}
}

// TestStageJournal: marks survive a reopen, a torn last line is dropped,
// paths with newlines round-trip, a bad record is refused.
func TestStageJournal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "st")
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	odd := "/a\nb"
	for _, r := range []rec{{'W', "/x/y"}, {'W', odd}, {'O', "/o"}, {'W', "/o/under"}, {'C', "/c"}, {'W', "/gone"}, {'U', "/gone"}} {
		if err := s.record(false, r); err != nil {
			t.Fatal(err)
		}
	}
	// /o/under was recorded after /o became opaque: it stays.
	check := func(s *Stage, when string) {
		t.Helper()
		for _, c := range []struct {
			got, want bool
			what      string
		}{
			{s.isWhite("/x/y"), true, "W /x/y"},
			{s.isWhite(odd), true, "W odd"},
			{s.isOpaque("/o"), true, "O /o"},
			{s.isWhite("/o/under"), true, "W /o/under"},
			{s.copied["/c"], true, "C /c"},
			{s.isWhite("/gone"), false, "U /gone"},
			{s.hasWhiteKids("/x"), true, "whiteouts in /x"},
		} {
			if c.got != c.want {
				t.Errorf("%s: %s is %v", when, c.what, c.got)
			}
		}
	}
	check(s, "live")
	// A crash: no compaction, and a torn append.
	s.journal.Close()
	s.lock.Close()
	f, _ := os.OpenFile(dir+"/.vroot/journal", os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("W /torn-without-newl")
	f.Close()
	s2, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(s2, "after a crash")
	if s2.isWhite("/torn-without-newl") {
		t.Error("a torn record was applied")
	}
	// Appending after the cut-off torn line makes a valid journal.
	s2.record(false, rec{'W', "/after"})
	s2.journal.Close()
	s2.lock.Close()
	s3, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(s3, "after a second crash")
	if !s3.isWhite("/after") {
		t.Error("the record after the torn line is lost")
	}
	// Close compacts: the journal holds the marks only.
	s3.Close()
	b, _ := os.ReadFile(dir + "/.vroot/journal")
	if strings.Contains(string(b), "U ") || strings.Count(string(b), "\n") != 6 {
		t.Errorf("compacted journal:\n%s", b)
	}
	s4, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(s4, "after compaction")
	s4.Close()
	// A W hides everything below it: its marks are dropped, on replay too.
	os.WriteFile(dir+"/.vroot/journal", []byte("W /p/q\nO /p/r\nC /p/s\nW /p\n"), 0o644)
	s5, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s5.isWhite("/p/q") || s5.isOpaque("/p/r") || s5.copied["/p/s"] || !s5.isWhite("/p") {
		t.Errorf("marks below a whiteout: white %v opaque %v copied %v", s5.white, s5.opaque, s5.copied)
	}
	s5.Close()
	os.WriteFile(dir+"/.vroot/journal", []byte("W /ok\nX /bad\n"), 0o644)
	if _, err := OpenStage(dir); err == nil || !strings.Contains(err.Error(), "journal line 2") {
		t.Errorf("bad record: %v", err)
	}
}

// TestStageCrash kills a vroot (a child process) while it appends to the
// journal, with temporary copies and synthesized directories around: the
// stage opens cleanly, with every acknowledged whiteout.
func TestStageCrash(t *testing.T) {
	if os.Getenv("VROOT_TEST_STAGE_CHILD") != "" {
		t.Skip("in the child")
	}
	low := t.TempDir()
	for i := 0; i < 2000; i++ {
		os.WriteFile(fmt.Sprintf("%s/f%04d", low, i), nil, 0o644)
	}
	dir := filepath.Join(t.TempDir(), "st")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStageCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), "VROOT_TEST_STAGE_CHILD="+dir, "VROOT_TEST_STAGE_LOWER="+low)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if g, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked = append(acked, g)
			if len(acked) == 300 {
				cmd.Process.Kill()
				break
			}
		}
	}
	cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("the child acknowledged %d whiteouts only", len(acked))
	}
	// What a crash leaves besides: a half-made copy, a synthesized listing
	// (made unwritable, as one of a 0555 directory is).
	os.WriteFile(dir+"/.vroot/tmp/copy-123", []byte("half"), 0o600)
	os.MkdirAll(dir+"/.vroot/merged/7/sub", 0o755)
	os.Chmod(dir+"/.vroot/merged/7", 0o555)
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatalf("reopening after a crash: %v", err)
	}
	defer s.Close()
	for _, g := range acked {
		if !s.isWhite(g) {
			t.Errorf("acknowledged whiteout %s lost", g)
		}
	}
	for _, d := range []string{".vroot/tmp", ".vroot/merged"} {
		if ents, err := os.ReadDir(filepath.Join(dir, d)); err != nil || len(ents) != 0 {
			t.Errorf("%s after reopening: %v %v", d, ents, err)
		}
	}
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	if got, a := viaResolver(r, Request{Path: acked[0], Follow: true}); got.errno != syscall.ENOENT {
		t.Errorf("a whited-out file: %v (%+v)", got, a)
	}
}

// TestStageCrashChild is the vroot TestStageCrash kills: it whites out
// lower files one by one, and says so once each is acknowledged.
func TestStageCrashChild(t *testing.T) {
	dir := os.Getenv("VROOT_TEST_STAGE_CHILD")
	if dir == "" {
		t.Skip("run by TestStageCrash")
	}
	low := os.Getenv("VROOT_TEST_STAGE_LOWER")
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dir+"/.vroot/tmp/copy-in-progress", []byte("x"), 0o600)
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	// A synthesized listing, left behind by the kill.
	r.Resolve(Request{Path: "/", Op: OpRead, Open: true})
	// Killed long before; a write to a closed stdout kills it too.
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		g := fmt.Sprintf("/f%04d", i%2000)
		a := r.Resolve(Request{Path: g, Op: OpDelete})
		if a.Errno == 0 && a.Skip {
			fmt.Printf("ACK %s\n", g)
		}
		if i >= 2000 {
			time.Sleep(time.Millisecond)
		}
	}
}

func TestStageStatus(t *testing.T) {
	low := mkTree(t, "usr/bin/cc=cc", "usr/lib/a=a", "usr/lib/b=b", "usr/share/doc/x=x", "usr/share/doc/y=y", "etc/conf=c")
	s := newStage(t)
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	mk := func(p string) error { return unix.Mkdir(p, 0o755) }
	write := func(p string) error { return os.WriteFile(p, []byte("w"), 0o644) }
	steps := []struct {
		req Request
		fn  func(string) error
	}{
		{Request{Path: "/usr/bin/cc", Op: OpWrite, Open: true, Follow: true}, write},             // M
		{Request{Path: "/usr/lib/new", Op: OpCreate, Open: true, Follow: true}, write},           // A, /usr/lib copied parent
		{Request{Path: "/usr/lib/a", Op: OpDelete}, nil},                                         // D
		{Request{Path: "/opt", Op: OpCreate, Excl: true}, mk},                                    // A
		{Request{Path: "/opt/pkg", Op: OpCreate, Excl: true}, mk},                                // A
		{Request{Path: "/opt/pkg/f", Op: OpCreate, Open: true, Follow: true}, write},             // A
		{Request{Path: "/usr/share/doc/x", Op: OpDelete}, nil},                                   // (below a D)
		{Request{Path: "/usr/share/doc/y", Op: OpDelete}, nil},                                   // (below a D)
		{Request{Path: "/usr/share/doc", Op: OpDelete, RemoveDir: true}, unix.Rmdir},             // D
		{Request{Path: "/etc/conf", Op: OpDelete}, nil},                                          // D, then
		{Request{Path: "/etc/conf", Op: OpCreate, Open: true, Excl: true, Follow: false}, write}, // M
	}
	for _, st := range steps {
		if err := do(t, r, st.req, st.fn); err != nil {
			t.Fatalf("%s: %v", st.req.Path, err)
		}
	}
	want := "M /etc/conf\nA /opt\nA /opt/pkg\nA /opt/pkg/f\nM /usr/bin/cc\nD /usr/lib/a\nA /usr/lib/new\nD /usr/share/doc\n"
	got := func(s *Stage) string {
		cs, err := s.Status()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, c := range cs {
			fmt.Fprintf(&b, "%c %s\n", c.Kind, c.Path)
		}
		return b.String()
	}
	if g := got(s); g != want {
		t.Errorf("Status:\n%s\nwant:\n%s", g, want)
	}
	s.Close()
	s2, err := OpenStage(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if g := got(s2); g != want {
		t.Errorf("Status after reopening:\n%s\nwant:\n%s", g, want)
	}
}

// TestStageInvisible: the stage, below a grant here, is not part of the
// guest view: not by name, not through "..", not in its parent's listing,
// not by GuestPath.
func TestStageInvisible(t *testing.T) {
	work := mkTree(t, "src/main.c=int main;", "sysroot/")
	low := mkTree(t, "usr/bin/cc=cc")
	s, err := OpenStage(work + "/st")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := newResolver(t, Options{Stage: s}, grant("/"), redirect(work+"/sysroot", low))
	for _, req := range []Request{
		{Path: work + "/st", Follow: true},
		{Path: work + "/st/", Follow: true},
		{Path: work + "/st/root/usr", Follow: true},
		{Path: work + "/src/../st/.vroot/journal", Follow: true},
		{Path: work + "/st/x", Op: OpCreate, Open: true, Follow: true},
		{Path: work + "/st", Op: OpDelete, RemoveDir: true},
		{Path: work + "/st", Op: OpChdir, Follow: true},
	} {
		if a := r.Resolve(req); a.Errno != syscall.ENOENT {
			t.Errorf("%+v: %+v, want ENOENT", req, a)
		}
	}
	// A symlink into it does not help.
	os.Symlink("st/root", work+"/sneaky")
	if a := r.Resolve(Request{Path: work + "/sneaky/usr", Follow: true}); a.Errno != syscall.ENOENT {
		t.Errorf("through a symlink: %+v", a)
	}
	// The work directory's listing does not show it.
	a := r.Resolve(Request{Path: work, Op: OpRead, Open: true, Follow: true})
	ents, err := os.ReadDir(a.Host)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "sneaky src sysroot" {
		t.Errorf("listing of the stage's parent: %v (host %s)", names, a.Host)
	}
	for _, h := range []string{s.Dir(), s.Dir() + "/.vroot/journal", s.Dir() + "/root/../.vroot"} {
		if g, ok := r.GuestPath(h); ok {
			t.Errorf("GuestPath(%s) = %q", h, g)
		}
	}
	cc := work + "/sysroot/usr/bin/cc"
	if err := do(t, r, Request{Path: cc, Op: OpWrite, Follow: true}, func(h string) error { return os.Chmod(h, 0o700) }); err != nil {
		t.Fatal(err)
	}
	if g, ok := r.GuestPath(s.Root() + cc); !ok || g != cc {
		t.Errorf("GuestPath of a staged file: %q %v", g, ok)
	}
}

// TestMergedListing: a merged directory opened for reading is a
// synthesized listing, which maps back to its guest path, is reused while
// nothing changes, and is fresh after a change.
func TestMergedListing(t *testing.T) {
	low := mkTree(t, "usr/lib/a=a", "usr/lib/b=b", "usr/lib/sub/", "usr/lib/l->a", "usr/only-lower/x")
	s := newStage(t, "usr/lib/staged=s")
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	open := func(p string) Answer {
		a := r.Resolve(Request{Path: p, Op: OpRead, Open: true, Follow: true})
		if a.Errno != 0 {
			t.Fatalf("open %s: %v", p, a.Errno)
		}
		return a
	}
	list := func(host string) string {
		ents, err := os.ReadDir(host)
		if err != nil {
			t.Fatal(err)
		}
		var b []string
		for _, e := range ents {
			b = append(b, e.Name()+":"+direntChar(e.Type()))
		}
		return strings.Join(b, " ")
	}
	a1 := open("/usr/lib")
	if !strings.HasPrefix(a1.Host, s.Dir()+"/.vroot/merged/") || a1.Guest != "/usr/lib" {
		t.Fatalf("merged directory answer: %+v", a1)
	}
	if l := list(a1.Host); l != "a:f b:f l:l staged:f sub:d" {
		t.Errorf("listing %q", l)
	}
	for _, c := range []struct{ host, guest string }{
		{a1.Host, "/usr/lib"},
		{a1.Host + "/sub", "/usr/lib/sub"},
		{a1.Host + " (deleted)", "/usr/lib (deleted)"},
	} {
		if g, ok := r.GuestPath(c.host); !ok || g != c.guest {
			t.Errorf("GuestPath(%s) = %q %v, want %q", c.host, g, ok, c.guest)
		}
	}
	// Through "." and a trailing slash too.
	if a := open("/usr/lib/sub/.."); a.Host != a1.Host {
		t.Errorf("through ..: %+v", a)
	}
	if a := open("/usr/lib/"); a.Host != a1.Host+"/" {
		t.Errorf("with a slash: %+v", a)
	}
	// A directory of one layer is not synthesized; nor is an open for
	// writing, or a stat.
	if a := open("/usr/only-lower"); a.Host != low+"/usr/only-lower" {
		t.Errorf("one layer: %+v", a)
	}
	if a := r.Resolve(Request{Path: "/usr/lib", Op: OpRead, Follow: true}); a.Host != s.Root()+"/usr/lib" {
		t.Errorf("stat of a merged directory: %+v", a)
	}
	// Reused while nothing changes, even across an unrelated Invalidate.
	r.Invalidate("/elsewhere")
	if a := open("/usr/lib"); a.Host != a1.Host {
		t.Errorf("not reused: %s then %s", a1.Host, a.Host)
	}
	// A create: the next open sees it, the old listing is unchanged.
	if err := do(t, r, Request{Path: "/usr/lib/new", Op: OpCreate, Open: true, Follow: true}, func(h string) error {
		return os.WriteFile(h, nil, 0o644)
	}); err != nil {
		t.Fatal(err)
	}
	a2 := open("/usr/lib")
	if a2.Host == a1.Host {
		t.Fatal("a stale listing after a create")
	}
	if l := list(a2.Host); l != "a:f b:f l:l new:f staged:f sub:d" {
		t.Errorf("listing after a create %q", l)
	}
	if l := list(a1.Host); l != "a:f b:f l:l staged:f sub:d" {
		t.Errorf("the old listing changed: %q", l)
	}
	// A deletion too.
	if err := do(t, r, Request{Path: "/usr/lib/a", Op: OpDelete}, nil); err != nil {
		t.Fatal(err)
	}
	if l := list(open("/usr/lib").Host); l != "b:f l:l new:f staged:f sub:d" {
		t.Errorf("listing after a delete %q", l)
	}
	// A lower-only directory with a whiteout is synthesized too.
	if err := do(t, r, Request{Path: "/usr/only-lower/x", Op: OpDelete}, nil); err != nil {
		t.Fatal(err)
	}
	if a := open("/usr/only-lower"); !strings.HasPrefix(a.Host, s.Dir()+"/.vroot/merged/") || list(a.Host) != "" {
		t.Errorf("lower directory with a whiteout: %+v %q", a, list(a.Host))
	}
}

// TestRenameErrnoOrder: ResolveRename checks both paths as the kernel
// does, before it changes anything.
func TestRenameErrnoOrder(t *testing.T) {
	low := mkTree(t, "d/f=f", "d/sub/x", "e/", "file=1", "loop->loop")
	s := newStage(t)
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	for _, c := range []struct {
		old, new string
		excl     bool
		want     syscall.Errno
	}{
		{"/d/sub", "/loop/x", false, syscall.ELOOP},    // the new parent's walk before EXDEV
		{"/d/sub", "/d/sub/in", false, syscall.EINVAL}, // into itself
		{"/d/f", "/d", false, syscall.ENOTEMPTY},       // over its own ancestor
		{"/d/sub", "/file", false, syscall.ENOTDIR},
		{"/d/f", "/e", false, syscall.EISDIR},
		{"/d/f", "/d/sub", false, syscall.EISDIR}, // per path: ENOTEMPTY
		{"/d/sub", "/e", false, syscall.EXDEV},
		{"/d/f", "/file", true, syscall.EEXIST},
		{"/missing", "/nope/x", false, syscall.ENOENT},
		{"/d/.", "/x", false, syscall.EBUSY},
		{"/d/f/", "/x", false, syscall.ENOTDIR},
	} {
		a, b := r.ResolveRename(Request{Path: c.old, Op: OpMove}, Request{Path: c.new, Op: OpCreate, Replace: !c.excl, Excl: c.excl})
		if a.Errno != c.want || b.Errno != c.want {
			t.Errorf("rename %s %s: %v %v, want %v", c.old, c.new, a.Errno, b.Errno, c.want)
		}
	}
	if cs, _ := s.Status(); len(cs) != 0 {
		t.Errorf("failed renames changed the stage: %v", cs)
	}
	a, b := r.ResolveRename(Request{Path: "/d/sub", Op: OpMove}, Request{Path: "/d/./sub", Op: OpCreate, Replace: true})
	if !a.Skip || !b.Skip {
		t.Errorf("rename onto itself: %+v %+v", a, b)
	}
}

// TestTmpfile: O_TMPFILE in a lower directory makes its file in the
// stage's copy of it, where linkat can give it a name.
func TestTmpfile(t *testing.T) {
	low := mkTree(t, "var/lib/")
	s := newStage(t)
	r := newResolver(t, Options{Stage: s}, redirect("/", low))
	a := r.Resolve(Request{Path: "/var/lib", Op: OpCreate, Open: true, Follow: true})
	if a.Errno != 0 || a.Host != s.Root()+"/var/lib" {
		t.Fatalf("O_TMPFILE: %+v", a)
	}
	fd, err := unix.Open(a.Host, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	r.Commit(a, err == nil)
	if err != nil {
		t.Skipf("O_TMPFILE: %v", err)
	}
	defer unix.Close(fd)
	unix.Write(fd, []byte("tmp"))
	b := r.Resolve(Request{Path: "/var/lib/named", Op: OpCreate, Excl: true})
	err = unix.Linkat(fd, "", unix.AT_FDCWD, b.Host, unix.AT_EMPTY_PATH)
	r.Commit(b, err == nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := viaResolver(r, Request{Path: "/var/lib/named", Follow: true}); got.what != "file:tmp" {
		t.Errorf("linked tmpfile: %v", got)
	}
	// O_CREAT on a directory still fails as the kernel says.
	c := r.Resolve(Request{Path: "/var", Op: OpCreate, Open: true, Follow: true})
	_, err = unix.Open(c.Host, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != unix.EISDIR {
		t.Errorf("O_CREAT on a directory: %v", err)
	}
}
