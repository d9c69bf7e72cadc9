package redirect

import (
	"testing"
)

// TestAnswerLayer: a read of an existing regular file under a redirect rule
// says which lower layer served it; the stage, grants, directories and
// missing names say none.
func TestAnswerLayer(t *testing.T) {
	host := mkTree(t, hostTree...)
	sdk := mkTree(t, sdkTree...)
	build := mkTree(t, "src/main.c=main")
	st := newStage(t, "etc/staged=s")
	r := newResolver(t, Options{Stage: st},
		redirect("/", host),
		redirect("/usr", sdk+"/usr", host+"/usr"),
		grant(build))
	for _, tc := range []struct {
		path   string
		op     Op
		follow bool
		want   string
	}{
		{"/usr/include/zlib.h", OpRead, true, sdk + "/usr"},
		{"/usr/include/stdio.h", OpRead, true, host + "/usr"},
		{"/usr/bin/cc", OpExec, true, host + "/usr"},
		{"/etc/passwd", OpRead, true, host},
		// Followed links: the file they lead to, in its layer.
		{"/usr/lib/libz.so", OpRead, true, sdk + "/usr"},
		{"/lib/libc.so", OpRead, true, host + "/usr"},
		{"/usr/lib/libz.so", OpRead, false, ""}, // the link itself
		{"/usr/include", OpRead, true, ""},      // a directory
		{"/usr/include/missing.h", OpRead, true, ""},
		{"/etc/staged", OpRead, true, ""},
		{build + "/src/main.c", OpRead, true, ""}, // a grant
		{"/usr/include/stdio.h/", OpRead, true, ""},
	} {
		a := r.Resolve(Request{Path: tc.path, Op: tc.op, Follow: tc.follow, Open: true})
		if a.Layer != tc.want {
			t.Errorf("%s (follow %v): Layer %q, want %q (answer %+v)", tc.path, tc.follow, a.Layer, tc.want, a)
		}
	}
	// Without a stage, the same layers.
	r = newResolver(t, Options{}, redirect("/", host), redirect("/usr", sdk+"/usr", host+"/usr"))
	if a := r.Resolve(Request{Path: "/usr/include/zlib.h", Op: OpRead, Follow: true}); a.Layer != sdk+"/usr" {
		t.Errorf("no stage: Layer %q, want %q", a.Layer, sdk+"/usr")
	}
	if a := r.Resolve(Request{Path: "/usr/include/stdio.h", Op: OpRead, Follow: true}); a.Layer != host+"/usr" {
		t.Errorf("no stage: Layer %q, want %q", a.Layer, host+"/usr")
	}
}

// TestLowerLayerAllocs guards the allocation-free claim of lowerLayer.
func TestLowerLayerAllocs(t *testing.T) {
	host := mkTree(t, hostTree...)
	sdk := mkTree(t, sdkTree...)
	r := newResolver(t, Options{}, redirect("/usr", sdk+"/usr", host+"/usr"))
	a := r.Resolve(Request{Path: "/usr/include/stdio.h", Op: OpRead, Follow: true})
	if a.Layer == "" {
		t.Fatal("no layer")
	}
	n := testing.AllocsPerRun(100, func() { r.lowerLayer(a.Rule, a.Guest, a.Host) })
	if n != 0 {
		t.Errorf("lowerLayer allocates %v times", n)
	}
}
