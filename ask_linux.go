package vroot

import (
	"syscall"

	"github.com/vroot-dev/vroot/ask"
	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/redirect"
)

// askOps names redirect's ops for ask requests.
var askOps = [...]string{
	redirect.OpRead: "read", redirect.OpExec: "exec", redirect.OpChdir: "chdir",
	redirect.OpWrite: "write", redirect.OpCreate: "create", redirect.OpDelete: "delete",
	redirect.OpMove: "move",
}

// askFunc is the resolver's view of a: an errno, EACCES for a deny (or
// the rule's own errno, when it has one).
func askFunc(a *ask.Asker) func(*filemap.Rule, string, redirect.Request) syscall.Errno {
	return func(rule *filemap.Rule, guest string, req redirect.Request) syscall.Errno {
		op := "access"
		if int(req.Op) < len(askOps) {
			op = askOps[req.Op]
		}
		if a.Decide(ask.Request{Pid: req.Pid, Op: op, Path: guest, Rule: rule.Path}) {
			return 0
		}
		if rule.Errno != 0 {
			return rule.Errno
		}
		return syscall.EACCES
	}
}

func askRecords(a *ask.Asker) []AskRecord {
	rs := a.Records()
	if len(rs) == 0 {
		return nil
	}
	out := make([]AskRecord, len(rs))
	for i, r := range rs {
		out[i] = AskRecord{Pid: r.Pid, Command: r.Command, Op: r.Op, Path: r.Path, Answer: r.Answer,
			Handler: r.Handler, Cached: r.Cached, TimedOut: r.TimedOut, Error: r.Error}
	}
	return out
}
