package redirect

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/filemap"
)

// A tree is written as specs relative to its root:
//
//	"usr/"              a directory
//	"usr/lib/libz.so.1" a file whose content is its path
//	"usr/x=content"     a file with that content
//	"lib->usr/lib"      a symlink
//	"d/:0700"           a directory with that mode (applied after the tree
//	                    is built, so the tree can be filled first)
//
// Parents are created as needed.

type node struct {
	kind byte // 'd', 'f', 'l'
	data string
	mode os.FileMode
}

type tree map[string]node

func parseTree(specs ...string) tree {
	t := tree{}
	for _, s := range specs {
		var mode os.FileMode
		if i := strings.LastIndex(s, ":0"); i > 0 && !strings.Contains(s, "->") && !strings.Contains(s, "=") {
			var m uint32
			fmt.Sscanf(s[i+1:], "%o", &m)
			mode, s = os.FileMode(m), s[:i]
		}
		switch {
		case strings.Contains(s, "->"):
			p, tgt, _ := strings.Cut(s, "->")
			t[p] = node{kind: 'l', data: tgt}
		case strings.HasSuffix(s, "/"):
			t[strings.TrimSuffix(s, "/")] = node{kind: 'd', mode: mode}
		default:
			p, data, ok := strings.Cut(s, "=")
			if !ok {
				data = p
			}
			t[p] = node{kind: 'f', data: data, mode: mode}
		}
	}
	return t
}

// write builds t under dir.
func (t tree) write(tb testing.TB, dir string) {
	tb.Helper()
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var modes []string
	for _, p := range paths {
		n := t[p]
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		var err error
		switch n.kind {
		case 'd':
			err = os.MkdirAll(full, 0o755)
		case 'f':
			err = os.WriteFile(full, []byte(n.data), 0o644)
		case 'l':
			err = os.Symlink(n.data, full)
		}
		if err != nil {
			tb.Fatal(err)
		}
		if n.mode != 0 {
			modes = append(modes, p)
		}
	}
	// Deepest first, so that a mode forbidding search does not stop the
	// chmod of what is below it.
	sort.Sort(sort.Reverse(sort.StringSlice(modes)))
	for _, p := range modes {
		if err := os.Chmod(filepath.Join(dir, p), t[p].mode); err != nil {
			tb.Fatal(err)
		}
	}
	if len(modes) > 0 {
		tb.Cleanup(func() {
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if d != nil && d.IsDir() {
					os.Chmod(p, 0o755)
				}
				return nil
			})
			for _, p := range modes {
				os.Chmod(filepath.Join(dir, p), 0o755)
			}
		})
	}
}

// mkTree writes specs under a fresh directory and returns it.
func mkTree(tb testing.TB, specs ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	parseTree(specs...).write(tb, dir)
	return dir
}

// newResolver compiles rules and builds a Resolver.
func newResolver(tb testing.TB, opt Options, rules ...filemap.Rule) *Resolver {
	tb.Helper()
	m, err := filemap.New(rules)
	if err != nil {
		tb.Fatal(err)
	}
	return New(m, opt)
}

func redirect(p string, to ...string) filemap.Rule {
	return filemap.Rule{Path: p, Action: filemap.Redirect, To: to}
}

func grant(p string) filemap.Rule { return filemap.Rule{Path: p, Action: filemap.Grant} }

func deny(p string, errno syscall.Errno) filemap.Rule {
	return filemap.Rule{Path: p, Action: filemap.Deny, Errno: errno}
}

// outcome is what a path names, as a test compares it: an errno, or the
// object's type and content.
type outcome struct {
	errno syscall.Errno
	what  string // "dir", "file:CONTENT", "link:TARGET", "other"
}

func (o outcome) String() string {
	if o.errno != 0 {
		return fmt.Sprintf("%s (%d)", unix.ErrnoName(o.errno), int(o.errno))
	}
	return o.what
}

// describe says what an O_PATH fd is.
func describe(fd int) outcome {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return outcome{errno: err.(syscall.Errno)}
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return outcome{what: "dir"}
	case unix.S_IFLNK:
		buf := make([]byte, pathMax)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return outcome{what: "link:?" + err.Error()}
		}
		return outcome{what: "link:" + string(buf[:n])}
	case unix.S_IFREG:
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", fd))
		if err != nil {
			return outcome{what: "file:?" + err.Error()}
		}
		return outcome{what: "file:" + string(b)}
	}
	return outcome{what: "other"}
}

func openFlags(follow bool) int {
	f := unix.O_PATH | unix.O_CLOEXEC
	if !follow {
		f |= unix.O_NOFOLLOW
	}
	return f
}

// oracle asks the kernel what guest names on the merged tree at rootfd:
// openat2 with RESOLVE_IN_ROOT walks it as if it were "/" (absolute symlinks
// and ".." stay inside), with the same path length check as any syscall,
// and O_PATH needs exactly the permissions stat needs.
func oracle(rootfd int, guest string, follow bool) outcome {
	fd, err := unix.Openat2(rootfd, guest, &unix.OpenHow{Flags: uint64(openFlags(follow)), Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		return outcome{errno: err.(syscall.Errno)}
	}
	defer unix.Close(fd)
	return describe(fd)
}

// viaResolver is what the guest sees through the resolver: the answer's
// errno, or what the kernel finds at the answer's host path.
func viaResolver(r *Resolver, req Request) (outcome, Answer) {
	ans := r.Resolve(req)
	if ans.Errno != 0 {
		return outcome{errno: ans.Errno}, ans
	}
	fd, err := unix.Open(ans.Host, openFlags(req.Follow), 0)
	if err != nil {
		return outcome{errno: err.(syscall.Errno)}, ans
	}
	defer unix.Close(fd)
	return describe(fd), ans
}

func openRoot(tb testing.TB, dir string) int {
	tb.Helper()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fd) })
	return fd
}

// compare checks every path, followed and not, against the oracle tree.
func compare(t *testing.T, r *Resolver, oracleDir string, paths []string) {
	t.Helper()
	rootfd := openRoot(t, oracleDir)
	for _, p := range paths {
		for _, follow := range []bool{false, true} {
			want := oracle(rootfd, p, follow)
			if want.errno == syscall.EACCES && os.Geteuid() == 0 {
				continue
			}
			got, ans := viaResolver(r, Request{Path: p, Op: OpRead, Follow: follow, Pid: os.Getpid(), Tid: unix.Gettid()})
			if got != want {
				t.Errorf("%s follow=%v: got %v, want %v (answer host=%q guest=%q errno=%v)",
					short(p), follow, got, want, short(ans.Host), short(ans.Guest), ans.Errno)
			}
		}
	}
}

// short keeps long test paths readable in messages.
func short(p string) string {
	if len(p) <= 120 {
		return p
	}
	return fmt.Sprintf("%s...(%d bytes)...%s", p[:50], len(p), p[len(p)-50:])
}

// newStage opens a stage in a fresh directory, with specs written in its
// root, and closes it when the test ends.
func newStage(tb testing.TB, specs ...string) *Stage {
	tb.Helper()
	s, err := OpenStage(filepath.Join(tb.TempDir(), "stage"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	parseTree(specs...).write(tb, s.Root())
	return s
}
