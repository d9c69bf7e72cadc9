package redirect

import (
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// TestHide: Options.Hide is asked about host files that reads find in a
// lower layer under a redirect rule, and only those: not directories, not
// writes, not granted paths, not an SDK layer's files nor the stage's.
func TestHide(t *testing.T) {
	h := mkTree(t,
		"inc/zlib.h", "inc/stdio.h", "inc/sub/",
		"lib/libz.so->libz.so.1", "lib/libz.so.1",
		"granted/zlib.h",
		"withsdk/y.h", "staged.h",
	)
	sdk := mkTree(t, "x.h")
	hidden := map[string]bool{}
	for _, p := range []string{"inc/zlib.h", "lib/libz.so", "granted/zlib.h", "withsdk/x.h", "withsdk/y.h", "inc/sub", "staged.h"} {
		hidden[filepath.Join(h, p)] = true
	}
	var mu sync.Mutex
	var asked []string
	hide := func(dir, name string) syscall.Errno {
		p := filepath.Join(dir, name)
		mu.Lock()
		asked = append(asked, p)
		mu.Unlock()
		if hidden[p] {
			return syscall.ENOENT
		}
		return 0
	}
	st := newStage(t, h[1:]+"/staged.h=staged")
	r := newResolver(t, Options{Stage: st, Hide: hide},
		redirect(h),
		grant(filepath.Join(h, "granted")),
		redirect(filepath.Join(h, "withsdk"), sdk, filepath.Join(h, "withsdk")),
	)
	for _, c := range []struct {
		path   string
		op     Op
		follow bool
		hidden string // the file named by the hidden answer; "" if served
	}{
		{"inc/zlib.h", OpRead, true, "inc/zlib.h"},
		{"inc/zlib.h", OpRead, false, "inc/zlib.h"},
		{"inc/zlib.h", OpExec, true, "inc/zlib.h"},
		{"lib/../inc/./zlib.h", OpRead, true, "inc/zlib.h"},
		{"inc/stdio.h", OpRead, true, ""},
		// a symlink is a file too, followed or not; its target is asked
		// about on its own
		{"lib/libz.so", OpRead, true, "lib/libz.so"},
		{"lib/libz.so", OpRead, false, "lib/libz.so"},
		{"lib/libz.so.1", OpRead, true, ""},
		// writes copy up, directories are never hidden, grants are not
		// the policy's, an SDK's file is not the host's, nor a staged one
		{"inc/zlib.h", OpWrite, true, ""},
		{"inc/sub", OpRead, true, ""},
		{"inc/sub", OpChdir, true, ""},
		{"granted/zlib.h", OpRead, true, ""},
		{"withsdk/x.h", OpRead, true, ""},
		{"withsdk/y.h", OpRead, true, "withsdk/y.h"},
		{"staged.h", OpRead, true, ""},
	} {
		a := r.Resolve(Request{Path: filepath.Join(h, c.path), Op: c.op, Follow: c.follow})
		if c.hidden == "" {
			if a.Errno != 0 || a.Hidden {
				t.Errorf("%s op=%d follow=%v: %v hidden=%v, want it served", c.path, c.op, c.follow, a.Errno, a.Hidden)
			}
			continue
		}
		if want := filepath.Join(h, c.hidden); a.Errno != syscall.ENOENT || !a.Hidden || a.Guest != want || !isRedirect(a.Rule) {
			t.Errorf("%s op=%d follow=%v: errno=%v hidden=%v guest=%q rule=%v; want ENOENT hiding %s under its redirect rule",
				c.path, c.op, c.follow, a.Errno, a.Hidden, a.Guest, a.Rule, want)
		}
	}
	for _, p := range asked {
		for _, never := range []string{"inc/sub", "granted/zlib.h", "withsdk/x.h", "staged.h"} {
			if p == filepath.Join(h, never) {
				t.Errorf("Hide asked about %s", never)
			}
		}
	}
}

// TestHideAllocs: asking Hide about a file it lets through costs the
// resolver no allocation of its own.
func TestHideAllocs(t *testing.T) {
	h := mkTree(t, "inc/stdio.h")
	st := newStage(t)
	calls := 0
	with := newResolver(t, Options{Stage: st, Hide: func(dir, name string) syscall.Errno { calls++; return 0 }}, redirect(h))
	without := newResolver(t, Options{Stage: st}, redirect(h))
	req := Request{Path: filepath.Join(h, "inc/stdio.h"), Op: OpRead, Follow: true}
	with.Resolve(req)
	without.Resolve(req)
	a := testing.AllocsPerRun(100, func() { with.Resolve(req) })
	b := testing.AllocsPerRun(100, func() { without.Resolve(req) })
	if calls == 0 {
		t.Fatal("Hide was not called")
	}
	if a != b {
		t.Errorf("Resolve allocates %v times with Hide, %v without", a, b)
	}
}
