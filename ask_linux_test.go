package vroot

import (
	"context"
	"syscall"
	"testing"

	"github.com/vroot-dev/vroot/ask"
	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/redirect"
)

func TestAskFunc(t *testing.T) {
	var got []ask.Request
	a := ask.New(ask.Func(func(ctx context.Context, r ask.Request) (ask.Answer, error) {
		got = append(got, r)
		return ask.Answer{Allow: r.Op == "read"}, nil
	}), ask.Options{})
	f := askFunc(a)
	rule := &filemap.Rule{Path: "/x", Action: filemap.Ask}
	if e := f(rule, "/x/a", redirect.Request{Path: "/x/./a", Op: redirect.OpRead, Pid: 1}); e != 0 {
		t.Fatalf("read: %v", e)
	}
	if e := f(rule, "/x/b", redirect.Request{Path: "/x/b", Op: redirect.OpCreate, Pid: 1}); e != syscall.EACCES {
		t.Fatalf("create: %v, want EACCES", e)
	}
	hide := &filemap.Rule{Path: "/y", Action: filemap.Ask, Errno: syscall.ENOENT}
	if e := f(hide, "/y/c", redirect.Request{Path: "/y/c", Op: redirect.OpMove}); e != syscall.ENOENT {
		t.Fatalf("move under a rule with an errno: %v, want ENOENT", e)
	}
	if len(got) != 3 || got[0].Path != "/x/a" || got[0].Rule != "/x" || got[1].Op != "create" || got[2].Op != "move" || got[2].Rule != "/y" {
		t.Fatalf("requests %+v", got)
	}
	recs := askRecords(a)
	if len(recs) != 3 || recs[1].Answer != "deny" || recs[1].Handler != "func" || recs[0].Pid != 1 {
		t.Fatalf("records %+v", recs)
	}
	if askRecords(ask.New(nil, ask.Options{})) != nil {
		t.Fatal("records without asks")
	}
	for op := redirect.OpRead; op <= redirect.OpMove; op++ {
		if askOps[op] == "" {
			t.Errorf("op %d has no name", op)
		}
	}
}
