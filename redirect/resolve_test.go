package redirect

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/filemap"
)

// hostTree is a small host-like root.
var hostTree = []string{
	"etc/passwd=host-passwd",
	"usr/bin/cc=host-cc",
	"usr/bin/only-host=host-only",
	"usr/lib/libz.so.1=host-z",
	"usr/lib/libc.so=host-c",
	"usr/include/stdio.h=host-stdio",
	"lib->usr/lib",
	"bin->usr/bin",
}

// sdkTree is a sysroot: relative and absolute symlinks that only make sense
// inside the guest view.
var sdkTree = []string{
	"usr/lib/libz.so.1=sdk-z",
	"usr/lib/libz.so->libz.so.1",
	"usr/lib/x->/usr/lib/libz.so.1",
	"usr/lib/abs-dir->/usr/include",
	"usr/lib/rel-dir->../include/",
	"usr/include/zlib.h=sdk-zlib",
	"lib->usr/lib",
}

// mergedSDKOverHost is sdkTree layered over hostTree, as overlayfs would
// show it.
var mergedSDKOverHost = []string{
	"etc/passwd=host-passwd",
	"usr/bin/cc=host-cc",
	"usr/bin/only-host=host-only",
	"usr/lib/libz.so.1=sdk-z",
	"usr/lib/libc.so=host-c",
	"usr/lib/libz.so->libz.so.1",
	"usr/lib/x->/usr/lib/libz.so.1",
	"usr/lib/abs-dir->/usr/include",
	"usr/lib/rel-dir->../include/",
	"usr/include/stdio.h=host-stdio",
	"usr/include/zlib.h=sdk-zlib",
	"lib->usr/lib",
	"bin->usr/bin",
}

var sdkPaths = []string{
	"/", "/usr", "/usr/", "/lib", "/lib/", "/bin/cc", "/etc/passwd",
	"/usr/lib/libz.so", "/lib/libz.so", "/lib/libz.so.1", "/lib/x", "/usr/lib/x",
	"/lib/libc.so", "/usr/bin/only-host", "/usr/bin/cc", "/usr/include/zlib.h",
	"/lib/abs-dir/stdio.h", "/lib/abs-dir/zlib.h", "/lib/abs-dir/", "/lib/abs-dir",
	"/lib/rel-dir", "/lib/rel-dir/zlib.h", "/usr/lib/rel-dir/../lib/x",
	"/usr/lib/libz.so/", "/lib/../etc/passwd", "/lib/../lib/x", "/lib/abs-dir/../lib/x",
	"/usr/include/../lib/libz.so", "/usr/lib/missing", "/usr/lib/missing/x",
	"/lib/x/", "/lib/x/.", "/lib/libz.so/..",
}

// TestOracle compares the guest view with the kernel on the equivalent
// merged tree, path by path, followed and not.
func TestOracle(t *testing.T) {
	long := func(n int) string { return strings.Repeat("n", n) }
	// pad builds "/d/" + padding + "f" of exactly n bytes.
	pad := func(n int, unit string) string {
		p := "/d/"
		for len(p)+len(unit)+1 <= n {
			p += unit
		}
		p += strings.Repeat("/", n-len(p)-1)
		return p + "f"
	}
	var chain40, chain41 []string
	for i := 0; i < 40; i++ {
		chain40 = append(chain40, fmt.Sprintf("a%d->a%d", i, i+1))
	}
	chain40 = append(chain40, "a40=end40")
	for i := 0; i < 41; i++ {
		chain41 = append(chain41, fmt.Sprintf("b%d->b%d", i, i+1))
	}
	chain41 = append(chain41, "b41=end41")
	// 30 links to a directory, then 10 or 11 more inside it: only the
	// total says ELOOP, whichever part the cache already knows.
	var split []string
	for i := 0; i < 30; i++ {
		split = append(split, fmt.Sprintf("dd%d->dd%d", i, i+1))
	}
	split = append(split, "dd30/")
	for i := 0; i < 11; i++ {
		split = append(split, fmt.Sprintf("dd30/e%d->e%d", i, i+1))
	}
	split = append(split, "dd30/e11=e-end")
	// A link whose target, joined to the rest of the path, is longer than
	// PATH_MAX: the kernel has no limit there.
	longLink := "d/long->" + strings.Repeat("./", 1900) + "f"
	longPath := "/" + strings.Repeat("./", 2000) + "d/long"

	for _, tc := range []struct {
		name string
		// layers are written topmost first; rules builds the map from their
		// directories (nil: "/" redirected to all of them).
		layers [][]string
		rules  func(l []string) []filemap.Rule
		oracle []string // nil: the only layer
		paths  []string
	}{
		{
			name:   "sdk over host",
			layers: [][]string{sdkTree, hostTree},
			oracle: mergedSDKOverHost,
			paths:  sdkPaths,
		},
		{
			name:   "sdk per prefix",
			layers: [][]string{sdkTree, hostTree},
			rules: func(l []string) []filemap.Rule {
				return []filemap.Rule{
					redirect("/", l[1]),
					redirect("/usr", l[0]+"/usr", l[1]+"/usr"),
					redirect("/lib", l[0]+"/lib", l[1]+"/lib"),
				}
			},
			oracle: mergedSDKOverHost,
			paths:  sdkPaths,
		},
		{
			name:   "map hides the host",
			layers: [][]string{sdkTree, hostTree},
			rules: func(l []string) []filemap.Rule {
				return []filemap.Rule{redirect("/", l[1]), redirect("/usr", l[0]+"/usr")}
			},
			oracle: []string{
				"etc/passwd=host-passwd",
				"usr/lib/libz.so.1=sdk-z",
				"usr/lib/libz.so->libz.so.1",
				"usr/lib/x->/usr/lib/libz.so.1",
				"usr/lib/abs-dir->/usr/include",
				"usr/lib/rel-dir->../include/",
				"usr/include/zlib.h=sdk-zlib",
				"lib->usr/lib",
				"bin->usr/bin",
			},
			paths: sdkPaths,
		},
		{
			name:   "rule roots",
			layers: [][]string{sdkTree, hostTree, {"opt/"}},
			rules: func(l []string) []filemap.Rule {
				return []filemap.Rule{
					redirect("/", l[2]),
					redirect("/opt/sdklib", l[0]+"/lib"), // a symlink: relative to guest /opt
					redirect("/opt/none", l[0]+"/nonexistent"),
					redirect("/opt/file", l[1]+"/etc/passwd"),
					redirect("/opt/under-file", l[1]+"/etc/passwd/x"),
					redirect("/opt/usr", l[0]+"/usr", l[1]+"/usr"),
				}
			},
			oracle: []string{
				"opt/sdklib->usr/lib",
				"opt/file=host-passwd",
				"opt/usr/lib/libz.so.1=sdk-z",
				"opt/usr/lib/libc.so=host-c",
				"opt/usr/lib/libz.so->libz.so.1",
				"opt/usr/lib/x->/usr/lib/libz.so.1",
				"opt/usr/lib/abs-dir->/usr/include",
				"opt/usr/lib/rel-dir->../include/",
				"opt/usr/bin/cc=host-cc",
				"opt/usr/bin/only-host=host-only",
				"opt/usr/include/stdio.h=host-stdio",
				"opt/usr/include/zlib.h=sdk-zlib",
			},
			paths: []string{
				"/opt/sdklib", "/opt/sdklib/", "/opt/sdklib/libz.so", "/opt/none", "/opt/none/",
				"/opt/file", "/opt/file/", "/opt/under-file", "/opt/usr/lib/libz.so",
				"/opt/usr/lib/rel-dir/stdio.h", "/opt/usr/bin/cc", "/opt/usr/..", "/opt/usr/lib/../../file",
			},
		},
		{
			name: "a file over a directory ends the merge",
			layers: [][]string{
				{"a=top-file", "b/", "b/top=t", "c/x=top-x"},
				{"a/inner=mid", "b=mid-file", "c/y=mid-y"},
				{"b/low=l", "c/z=low-z"},
			},
			oracle: []string{"a=top-file", "b/top=t", "c/x=top-x", "c/y=mid-y", "c/z=low-z"},
			paths:  []string{"/a", "/a/", "/a/inner", "/b/top", "/b/low", "/c/x", "/c/y", "/c/z", "/c/../b/low"},
		},
		{
			name:   "dots",
			layers: [][]string{{"a/b/c/file", "a/f", "a/l->b", "a/up->../a/b", "a/root->/", "a/dotdot->.."}},
			paths: []string{
				"/a/b/../f", "/..", "/../..", "/../a/f", "/a/./b/./c/file", "/a//b///c/file", "//a/f",
				"/a/f/.", "/a/f/..", "/a/b/c/..", "/a/l/..", "/a/l/../f", "/a/up/c/file", "/a/up/..",
				"/a/b/c/file/", "/a/f/", "/a/l/", "/a/l", "/a/b/", "/a/b/.", "/", "//", "/.", "/./",
				"/a/missing/..", "/a/missing/", "/a/root/a/f", "/a/root/..", "/a/dotdot/a/f",
				"/a/b/c/file/..", "/a/../../../a/f", "/a/dotdot", "/a/dotdot/", "/a/root", "/a/root/",
				"/a/l/./", "/a/up/../..", "a/f", "",
			},
		},
		{
			name:   "trailing slashes",
			layers: [][]string{{"d/", "f", "ld->d", "lf->f", "ln->nowhere", "lld->ld", "lds->d/", "lfs->f/", "d/x"}},
			paths: []string{
				"/d/", "/f/", "/ld/", "/lf/", "/ln/", "/lld/", "/ld", "/lf", "/ln", "/lld", "/d//", "/f//",
				"/ld/.", "/lf/.", "/lds", "/lds/x", "/lfs", "/lfs/", "/lld/x", "/ln/x",
			},
		},
		{
			name: "symlink loops",
			layers: [][]string{{
				"loop->loop", "a->b", "b->a", "self->./self", "ploop->ploop/x",
				"dirloop/up->..", "dirloop/f", "abs->/abs",
			}},
			paths: []string{
				"/loop", "/loop/", "/a", "/a/x", "/self", "/ploop", "/abs", "/abs/",
				"/dirloop/up/dirloop/up/dirloop/up/dirloop/f",
			},
		},
		{
			name:   "40 and 41 links",
			layers: [][]string{append(append(append([]string{"d/f"}, chain40...), chain41...), split...)},
			paths: []string{
				"/a0", "/a1", "/b0", "/b1", "/a0/", "/b0/",
				"/dd0/e1", "/dd0/e0", "/dd1/e0", "/dd0/e1", "/dd0", "/dd0/",
				"/dd30/e0", "/dd0/./e1", "/dd0/../dd0/e1",
			},
		},
		{
			name:   "NAME_MAX",
			layers: [][]string{{"d/" + long(255), "d/f"}},
			paths: []string{
				"/d/" + long(255), "/d/" + long(256), "/missing/" + long(256), "/d/" + long(256) + "/x",
				"/d/f/" + long(256), "/d/" + long(255) + "/", "/" + long(256), "/d/" + long(256) + "/..",
				"/d/" + long(255) + "/" + long(300),
			},
		},
		{
			name:   "PATH_MAX",
			layers: [][]string{{"d/f", longLink}},
			paths: []string{
				pad(4095, "./"), pad(4096, "./"), pad(4095, "/"), pad(4096, "/"), pad(4094, "./"),
				pad(5000, "./"), "/" + strings.Repeat("/", 4094), "/" + strings.Repeat("/", 4095),
				longPath, longPath + "/", strings.Repeat("/x/..", 818) + "/d/f",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dirs []string
			for _, l := range tc.layers {
				dirs = append(dirs, mkTree(t, l...))
			}
			var rules []filemap.Rule
			if tc.rules != nil {
				rules = tc.rules(dirs)
			} else {
				rules = []filemap.Rule{redirect("/", dirs...)}
			}
			oracleDir := dirs[0]
			if tc.oracle != nil {
				oracleDir = mkTree(t, tc.oracle...)
			}
			r := newResolver(t, Options{}, rules...)
			compare(t, r, oracleDir, tc.paths)
			// A second pass, now that the cache is warm, must agree.
			compare(t, r, oracleDir, tc.paths)
		})
	}
}

// TestPathMaxKernel pins the boundary the oracle relies on: the kernel
// refuses a path of PATH_MAX bytes before any lookup, and takes one less.
func TestPathMaxKernel(t *testing.T) {
	var st syscall.Stat_t
	if err := syscall.Stat("/"+strings.Repeat("/", 4094), &st); err != nil {
		t.Errorf("4095 bytes: %v", err)
	}
	if err := syscall.Stat("/"+strings.Repeat("/", 4095), &st); err != syscall.ENAMETOOLONG {
		t.Errorf("4096 bytes: %v, want ENAMETOOLONG", err)
	}
	r := newResolver(t, Options{}, grant("/"))
	if a := r.Resolve(Request{Path: "/" + strings.Repeat("/", 4095)}); a.Errno != syscall.ENAMETOOLONG {
		t.Errorf("resolver, 4096 bytes: %+v", a)
	}
	if a := r.Resolve(Request{Path: "/" + strings.Repeat("/", 4094)}); a.Errno != 0 || a.Host == "" {
		t.Errorf("resolver, 4095 bytes: %+v", a)
	}
	// A relative path joined to a deep cwd: the kernel only checks what the
	// process passed.
	dir := mkTree(t, "f")
	deep := dir + "/" + strings.Repeat("./", 2040) + "f"
	if a := r.Resolve(Request{Path: deep, ArgLen: 4080}); a.Errno != 0 || a.Guest != dir+"/f" {
		t.Errorf("resolver, joined path of %d bytes: %+v", len(deep), a)
	}
	if a := r.Resolve(Request{Path: deep, ArgLen: 4096}); a.Errno != syscall.ENAMETOOLONG {
		t.Errorf("resolver, joined path, argument of 4096 bytes: %+v", a)
	}
}

// TestIdentity: with identity rules only, the resolver may leave the last
// component to the kernel, so the answers must still match the host itself.
func TestIdentity(t *testing.T) {
	dir := mkTree(t, "a/b/f", "a/l->b", "a/abs->"+"/etc", "a/loop->loop", "a/lf->b/f")
	r := newResolver(t, Options{}, grant("/"), redirect(dir+"/a/b"))
	if !r.identity {
		t.Fatal("identity map not detected")
	}
	var paths []string
	for _, p := range []string{"/a/b/f", "/a/l/f", "/a/l", "/a/l/", "/a/abs", "/a/abs/passwd", "/a/loop", "/a/lf", "/a/lf/", "/a/b/../l/f", "/a/nope", "/a/nope/"} {
		paths = append(paths, dir+p)
	}
	compare(t, r, "/", paths)
	// Requests are answered with their own string, so that the tracer has
	// nothing to rewrite; Guest is canonical up to the last component.
	for _, c := range []struct{ path, guest string }{
		{dir + "/a/b/f", dir + "/a/b/f"},
		{dir + "/a/l/../l/f", dir + "/a/b/f"},
		{dir + "/a/l", dir + "/a/l"},
		{"/proc/self/status", "/proc/1/status"}, // the tracee's self
	} {
		if a := r.Resolve(Request{Path: c.path, Follow: true, Pid: 1}); a.Host != c.path || a.Guest != c.guest {
			t.Errorf("identity answer for %s: %+v, want guest %s", c.path, a, c.guest)
		}
	}
	// chdir always resolves: the tracer keeps Guest as the cwd.
	if a := r.Resolve(Request{Path: dir + "/a/l", Op: OpChdir, Follow: true}); a.Guest != dir+"/a/b" {
		t.Errorf("chdir through a link: guest %q, want %q", a.Guest, dir+"/a/b")
	}
}

// TestNameOps: for the syscalls that act on the name itself, the answer
// keeps ".", "..", "/" and trailing slashes, so that the kernel says what it
// says natively.
func TestNameOps(t *testing.T) {
	low := mkTree(t, "d/f", "d/sub/", "lower-only/x", "ld->d", "ln->nowhere", "f")
	top := mkTree(t, "d/")
	oracleDir := mkTree(t, "d/f", "d/sub/", "lower-only/x", "ld->d", "ln->nowhere", "f")
	st := newStage(t)
	r := newResolver(t, Options{Stage: st}, redirect("/", top, low))
	rootfd := openRoot(t, oracleDir)
	type opFn func(dirfd int, p string) error
	mkdir := func(dirfd int, p string) error { return unix.Mkdirat(dirfd, p, 0o755) }
	rmdir := func(dirfd int, p string) error { return unix.Unlinkat(dirfd, p, unix.AT_REMOVEDIR) }
	unlink := func(dirfd int, p string) error { return unix.Unlinkat(dirfd, p, 0) }
	creat := func(dirfd int, p string) error {
		fd, err := unix.Openat(dirfd, p, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}
	for _, tc := range []struct {
		req   Request
		name  string
		fn    opFn
		paths []string
	}{
		{Request{Op: OpCreate, Excl: true}, "mkdir", mkdir, []string{"/d/.", "/d/..", "/", "/d/sub", "/d/sub/", "/ld/", "/ln/", "/f/", "/d/f/", "/nope/x", "/f/x", "/ld/."}},
		{Request{Op: OpDelete, RemoveDir: true}, "rmdir", rmdir, []string{"/d/.", "/d/..", "/", "/ld/", "/f/", "/d/f/", "/nope"}},
		{Request{Op: OpDelete}, "unlink", unlink, []string{"/d/.", "/d/..", "/", "/d/sub/", "/ld/", "/d/f/", "/d/"}},
		{Request{Op: OpCreate, Open: true, Follow: true}, "creat", creat, []string{"/d/.", "/d/..", "/", "/d/new/", "/ld/", "/ln/", "/d/sub"}},
	} {
		for _, p := range tc.paths {
			// Neither tree is changed by these: every one of them fails, or
			// is undone below.
			var want error
			if p == "/" {
				// Relative to the oracle's fd, "/" cannot be spelled; these
				// are what the kernel says for the root.
				want = map[string]error{"mkdir": syscall.EEXIST, "rmdir": syscall.EBUSY, "unlink": syscall.EISDIR, "creat": syscall.EISDIR}[tc.name]
			} else {
				want = tc.fn(rootfd, strings.TrimPrefix(p, "/"))
			}
			req := tc.req
			req.Path = p
			ans := r.Resolve(req)
			var got error = ans.Errno
			if ans.Errno == 0 && !ans.Skip {
				got = tc.fn(unix.AT_FDCWD, ans.Host)
			}
			if errno(got) != errno(want) {
				t.Errorf("%s %s: got %v, want %v (host %q)", tc.name, p, got, want, ans.Host)
			}
		}
	}
	// A name whose parent only the lower layer has goes to the stage, whose
	// parent is made, so that the create succeeds as on the merged tree.
	ans := r.Resolve(Request{Path: "/lower-only/new", Op: OpCreate, Excl: true})
	if ans.Host != st.Root()+"/lower-only/new" || ans.After != AfterCreated {
		t.Errorf("create in a lower-only directory: %+v", ans)
	}
	if fi, err := os.Stat(st.Root() + "/lower-only"); err != nil || !fi.IsDir() {
		t.Errorf("parent not staged: %v", err)
	}
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}

func TestDeny(t *testing.T) {
	specs := []string{"secret/x", "pub/f", "pub/l->/secret/x", "pub/ld->/secret", "home/me/.cache/c", "home/me/other", "home/other/o"}
	dir := mkTree(t, specs...)
	t.Run("ENOENT is a hidden tree", func(t *testing.T) {
		r := newResolver(t, Options{}, redirect("/", dir), deny("/secret", syscall.ENOENT))
		hidden := mkTree(t, "pub/f", "pub/l->/secret/x", "pub/ld->/secret", "home/me/.cache/c", "home/me/other", "home/other/o")
		compare(t, r, hidden, []string{"/secret", "/secret/", "/secret/x", "/secret/..", "/pub/l", "/pub/ld/", "/pub/../secret/x", "/pub/f"})
		for _, c := range []struct {
			path string
			op   Op
			want syscall.Errno
		}{
			{"/secret", OpCreate, syscall.EACCES}, // the hidden name itself: refused
			{"/secret/", OpCreate, syscall.EACCES},
			{"/secret/y", OpCreate, syscall.ENOENT},
			{"/secret", OpDelete, syscall.ENOENT},
			{"/secret/x", OpWrite, syscall.ENOENT},
		} {
			a := r.Resolve(Request{Path: c.path, Op: c.op})
			if a.Errno != c.want || a.Rule == nil || a.Rule.Action != filemap.Deny {
				t.Errorf("%s op %d: %+v, want %v by the deny rule", c.path, c.op, a, c.want)
			}
		}
	})
	t.Run("EACCES refuses", func(t *testing.T) {
		r := newResolver(t, Options{}, redirect("/", dir), deny("/secret", syscall.EACCES))
		for _, c := range []struct {
			path   string
			follow bool
			want   syscall.Errno
		}{
			{"/secret", false, syscall.EACCES},
			{"/secret/x", true, syscall.EACCES},
			{"/secret/..", true, syscall.EACCES},
			{"/pub/l", true, syscall.EACCES},
			{"/pub/l", false, 0},
			{"/pub/f", true, 0},
		} {
			a := r.Resolve(Request{Path: c.path, Follow: c.follow})
			if a.Errno != c.want {
				t.Errorf("%s follow=%v: %+v, want %v", c.path, c.follow, a, c.want)
			}
		}
	})
	t.Run("ancestors of an allowed rule stay traversable", func(t *testing.T) {
		r := newResolver(t, Options{}, redirect("/", dir), deny("/home", syscall.ENOENT), redirect("/home/me/.cache", dir+"/home/me/.cache"))
		for _, c := range []struct {
			path string
			op   Op
			want syscall.Errno
			host string
		}{
			{"/home/me/.cache/c", OpRead, 0, dir + "/home/me/.cache/c"},
			{"/home/me/.cache/new", OpCreate, syscall.EROFS, ""}, // no stage: read-only
			{"/home/me", OpRead, 0, dir + "/home/me"},
			{"/home", OpChdir, 0, dir + "/home"},
			{"/home/me/other", OpRead, syscall.ENOENT, ""},
			{"/home/other/o", OpRead, syscall.ENOENT, ""},
			{"/home/me", OpCreate, syscall.EACCES, ""},
			{"/home/me", OpDelete, syscall.EACCES, ""},
		} {
			a := r.Resolve(Request{Path: c.path, Op: c.op, Follow: true})
			if a.Errno != c.want || a.Host != c.host {
				t.Errorf("%s op %d: %+v, want errno %v host %q", c.path, c.op, a, c.want, c.host)
			}
		}
		if g, ok := r.GuestPath(dir + "/home/me"); !ok || g != "/home/me" {
			t.Errorf("GuestPath of a traversable deny directory: %q %v", g, ok)
		}
	})
	t.Run("ask", func(t *testing.T) {
		// Directories walked through are asked too; an allowed ask is a
		// grant: the same path on the host.
		var asked []string
		r := newResolver(t, Options{AskFunc: func(rule *filemap.Rule, guest string, req Request) syscall.Errno {
			asked = append(asked, guest)
			if guest == dir+"/pub" || guest == dir+"/pub/f" {
				return 0
			}
			return syscall.EPERM
		}}, grant("/"), filemap.Rule{Path: dir + "/pub", Action: filemap.Ask})
		if a := r.Resolve(Request{Path: dir + "/pub/f"}); a.Errno != 0 || a.Host != dir+"/pub/f" {
			t.Errorf("allowed ask: %+v", a)
		}
		if a := r.Resolve(Request{Path: dir + "/pub/l"}); a.Errno != syscall.EPERM || a.Rule == nil || a.Rule.Action != filemap.Ask {
			t.Errorf("refused ask: %+v", a)
		}
		if want := []string{dir + "/pub", dir + "/pub/f", dir + "/pub/l"}; strings.Join(asked, " ") != strings.Join(want, " ") {
			t.Errorf("asked %q, want %q", asked, want)
		}
		r = newResolver(t, Options{}, grant("/"), filemap.Rule{Path: dir + "/pub", Action: filemap.Ask})
		if a := r.Resolve(Request{Path: dir + "/pub/f"}); a.Errno != syscall.EACCES {
			t.Errorf("ask without a handler: %+v", a)
		}
	})
}

// TestProc: /proc/self is the tracee, and magic links lead back into the
// guest view, where the rest of the path is resolved.
func TestProc(t *testing.T) {
	top := mkTree(t, "work/only-top=top", "work/both=top-both")
	low := mkTree(t, "work/only-low=low", "work/both=low-both", "work/sub/f=sub")
	r := newResolver(t, Options{}, redirect("/", top, low), grant("/proc"))
	t.Chdir(low + "/work")
	pid, tid := os.Getpid(), unix.Gettid()
	res := func(p string, follow bool) Answer {
		return r.Resolve(Request{Path: p, Follow: follow, Pid: pid, Tid: tid})
	}
	spid := fmt.Sprint(pid)
	for _, c := range []struct {
		path   string
		follow bool
		host   string
		errno  syscall.Errno
	}{
		{"/proc/self", true, "/proc/" + spid, 0},
		{"/proc/self", false, "/proc/self", 0},
		{"/proc/self/", false, "/proc/" + spid + "/", 0},
		{"/proc/thread-self", true, fmt.Sprintf("/proc/%d/task/%d", pid, tid), 0},
		{"/proc/self/status", true, "/proc/" + spid + "/status", 0},
		// The cwd is the lower layer's directory, but the guest sees the
		// merged one: names only the top layer has are found too.
		{"/proc/self/cwd", true, top + "/work", 0},
		{"/proc/self/cwd", false, "/proc/" + spid + "/cwd", 0},
		{"/proc/self/cwd/only-top", true, top + "/work/only-top", 0},
		{"/proc/self/cwd/only-low", true, low + "/work/only-low", 0},
		{"/proc/self/cwd/both", true, top + "/work/both", 0},
		{"/proc/self/cwd/sub/../both", true, top + "/work/both", 0},
		{"/proc/self/cwd/..", true, top, 0},
		{"/proc/self/root/work/both", true, top + "/work/both", 0},
		{"/proc/self/task/" + fmt.Sprint(tid) + "/cwd/both", true, top + "/work/both", 0},
		{"/proc/thread-self/cwd/only-top", true, top + "/work/only-top", 0},
	} {
		a := res(c.path, c.follow)
		if a.Errno != c.errno || a.Host != c.host {
			t.Errorf("%s follow=%v: %+v, want host %q errno %v", c.path, c.follow, a, c.host, c.errno)
		}
	}
	if a := res("/proc/self/cwd/both", true); a.Guest != "/work/both" {
		t.Errorf("guest of a path through the cwd link: %q", a.Guest)
	}

	// A pipe: not a path. Last component: the kernel follows the link
	// itself; intermediate: not a directory.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	fdPath := fmt.Sprintf("/proc/self/fd/%d", p[0])
	if a := res(fdPath, true); a.Errno != 0 || a.Host != fmt.Sprintf("/proc/%d/fd/%d", pid, p[0]) {
		t.Errorf("pipe fd: %+v", a)
	}
	if a := res(fdPath+"/x", true); a.Errno != syscall.ENOTDIR {
		t.Errorf("through a pipe fd: %+v, want ENOTDIR", a)
	}
	var st unix.Stat_t
	if err := unix.Stat(fdPath+"/x", &st); err != syscall.ENOTDIR {
		t.Errorf("kernel through a pipe fd: %v (the test's premise)", err)
	}

	// An open file of the guest view: the fd link maps back.
	f, err := os.Open(low + "/work/sub/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if a := res(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), true); a.Host != low+"/work/sub/f" || a.Guest != "/work/sub/f" {
		t.Errorf("file fd: %+v", a)
	}
	// A deleted file: the kernel follows the link to the inode.
	tmp, err := os.CreateTemp(top, "del")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	os.Remove(tmp.Name())
	if a := res(fmt.Sprintf("/proc/self/fd/%d", tmp.Fd()), true); a.Host != fmt.Sprintf("/proc/%d/fd/%d", pid, tmp.Fd()) {
		t.Errorf("deleted file fd: %+v", a)
	}
	// A directory outside the guest view: the kernel resolves the rest.
	outside := t.TempDir()
	os.WriteFile(outside+"/o", []byte("o"), 0o644)
	od, err := os.Open(outside)
	if err != nil {
		t.Fatal(err)
	}
	defer od.Close()
	if a := res(fmt.Sprintf("/proc/self/fd/%d/o", od.Fd()), true); a.Host != fmt.Sprintf("/proc/%d/fd/%d/o", pid, od.Fd()) || a.Guest != "" {
		t.Errorf("outside dir fd: %+v", a)
	}

	// Nothing under /proc/PID is cached: another pid gets its own answer.
	if a := r.Resolve(Request{Path: "/proc/self/status", Follow: true, Pid: 1, Tid: 1}); a.Host != "/proc/1/status" {
		t.Errorf("other pid: %+v", a)
	}
}

func TestGuestPath(t *testing.T) {
	host := mkTree(t, hostTree...)
	sdk := mkTree(t, sdkTree...)
	r := newResolver(t, Options{},
		redirect("/", host),
		redirect("/usr", sdk+"/usr", host+"/usr"),
		grant("/var/tmp"), // not /tmp: the test's trees are there
		redirect("/srv"),  // identity
		deny("/usr/secret", syscall.ENOENT),
	)
	for _, c := range []struct {
		host, guest string
		ok          bool
	}{
		{host, "/", true},
		{host + "/etc/passwd", "/etc/passwd", true},
		{sdk + "/usr/lib", "/usr/lib", true},
		{sdk + "/usr", "/usr", true},
		{host + "/usr/bin", "/usr/bin", true}, // the second layer of /usr
		{"/var/tmp/x", "/var/tmp/x", true},
		{"/var/tmp", "/var/tmp", true},
		{"/srv/www", "/srv/www", true},
		{sdk + "/lib", "", false},           // the sdk root is not a layer of "/"
		{host + "/usr/secret/x", "", false}, // denied
		{sdk + "/usr/secretx", "/usr/secretx", true},
		{"/etc/passwd", "", false}, // hidden by "/"'s layer
		{host + "/usr/lib/x (deleted)", "/usr/lib/x (deleted)", true},
		{"pipe:[1]", "", false},
		{"", "", false},
	} {
		g, ok := r.GuestPath(c.host)
		if g != c.guest || ok != c.ok {
			t.Errorf("GuestPath(%q) = %q, %v; want %q, %v", c.host, g, ok, c.guest, c.ok)
		}
	}
	// Round trips: what Resolve answers maps back to its Guest.
	for _, p := range sdkPaths {
		a := r.Resolve(Request{Path: p, Follow: true})
		if a.Errno != 0 {
			continue
		}
		h := strings.TrimSuffix(a.Host, "/")
		if h == "" {
			h = "/"
		}
		if g, ok := r.GuestPath(h); !ok || g != a.Guest {
			t.Errorf("round trip %s: host %q guest %q, GuestPath gives %q %v", p, a.Host, a.Guest, g, ok)
		}
	}
	// No rule at all: everything is itself.
	if g, ok := New(nil, Options{}).GuestPath("/x/y"); g != "/x/y" || !ok {
		t.Errorf("nil map: %q %v", g, ok)
	}
}

// TestInvalidate: a cached directory that a mutation replaced is not served
// after Invalidate.
func TestInvalidate(t *testing.T) {
	dir := mkTree(t, "a/f=a-f", "b/f=b-f", "l->a")
	r := newResolver(t, Options{}, redirect("/", dir))
	get := func() string {
		a := r.Resolve(Request{Path: "/l/f", Follow: true})
		return a.Host
	}
	if h := get(); h != dir+"/a/f" {
		t.Fatalf("before: %q", h)
	}
	// Replace the symlink by a directory: stale until invalidated.
	os.Remove(dir + "/l")
	os.MkdirAll(dir+"/l", 0o755)
	os.WriteFile(dir+"/l/f", []byte("l-f"), 0o644)
	if h := get(); h != dir+"/a/f" {
		t.Logf("served fresh without Invalidate (the cache was not used?): %q", h)
	}
	r.Invalidate("/l")
	if h := get(); h != dir+"/l/f" {
		t.Errorf("after Invalidate: %q", h)
	}
	// And back to a symlink, elsewhere.
	os.RemoveAll(dir + "/l")
	os.Symlink("b", dir+"/l")
	r.Invalidate("/l")
	if h := get(); h != dir+"/b/f" {
		t.Errorf("after second Invalidate: %q", h)
	}
}

// TestConcurrent exercises the cache from several goroutines (run with
// -race).
func TestConcurrent(t *testing.T) {
	host := mkTree(t, hostTree...)
	sdk := mkTree(t, sdkTree...)
	r := newResolver(t, Options{}, redirect("/", sdk, host))
	want := map[string]Answer{}
	for _, p := range sdkPaths {
		want[p] = r.Resolve(Request{Path: p, Follow: true})
	}
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func(g int) {
			for i := 0; i < 200; i++ {
				for _, p := range sdkPaths {
					a := r.Resolve(Request{Path: p, Follow: true})
					if a.Host != want[p].Host || a.Errno != want[p].Errno || a.Guest != want[p].Guest {
						t.Errorf("%s: %+v, want %+v", p, a, want[p])
					}
				}
				if g == 0 && i%10 == 0 {
					r.Invalidate("/")
				}
			}
			done <- true
		}(g)
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// TestStageSeam: with a stage, STAGE/root is the top layer of every redirect
// for reads, and maps back to the guest.
func TestStageSeam(t *testing.T) {
	low := mkTree(t, "usr/x=low-x", "usr/y=low-y", "etc/z=low-z")
	st := newStage(t, "usr/x=staged-x", "usr/new=staged-new")
	stage := st.Dir()
	r := newResolver(t, Options{Stage: st}, redirect("/", low), grant("/tmp"))
	if r.identity {
		t.Fatal("a stage is not an identity map")
	}
	merged := mkTree(t, "usr/x=staged-x", "usr/y=low-y", "usr/new=staged-new", "etc/z=low-z")
	compare(t, r, merged, []string{"/usr/x", "/usr/y", "/usr/new", "/etc/z", "/usr/", "/nope"})
	if g, ok := r.GuestPath(stage + "/root/usr/new"); !ok || g != "/usr/new" {
		t.Errorf("GuestPath of a staged file: %q %v", g, ok)
	}
}
