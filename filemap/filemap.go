// Package filemap owns the rules that decide, for every guest path, what the
// build may do there: grant (the host path, as is), redirect (the stage over
// ordered lower layers), ask (a handler decides) or deny (an errno). It also
// loads those rules from TOML profiles. It is pure: no tracing, no I/O other
// than reading profiles.
package filemap

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// Action is what a rule does with the paths below its prefix.
type Action uint8

const (
	// Redirect serves reads from the stage, then from the lower layers in
	// To, and sends every write into the stage.
	Redirect Action = iota
	// Grant passes the path through to the host unchanged.
	Grant
	// Ask defers to a handler; its answer is cached.
	Ask
	// Deny refuses the access with Rule.Errno.
	Deny
)

// Rule maps a guest path prefix to an action.
type Rule struct {
	// Path is an absolute, clean guest path ("/", "/usr", "/usr/lib").
	Path string
	// Action is what happens below Path.
	Action Action
	// To lists the lower layers of a Redirect rule, highest first, as host
	// paths that stand for Path. Empty means Path itself on the host.
	To []string
	// Errno is what a Deny rule gives the guest (EACCES, ENOENT or EPERM).
	Errno syscall.Errno
	// Source says where the rule came from, for messages: "file:line" or
	// "--map /usr=/sdk/usr".
	Source string
}

var actionNames = [...]string{Redirect: "redirect", Grant: "grant", Ask: "ask", Deny: "deny"}

// String returns the action's profile spelling ("redirect", "grant", ...).
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction is the inverse of Action.String. It is case-sensitive, as
// profiles are: a profile that says "Grant" is more likely a typo than a
// request.
func ParseAction(s string) (Action, error) {
	for a, name := range actionNames {
		if s == name {
			return Action(a), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q (want grant, redirect, ask or deny)", s)
}

// The errnos a deny rule may give. Others (EIO, EROFS, ...) would tell the
// build something about the host that is not true of the merged tree, so
// they are refused rather than passed on.
var denyErrnos = []struct {
	name  string
	errno syscall.Errno
}{
	{"EACCES", syscall.EACCES},
	{"ENOENT", syscall.ENOENT},
	{"EPERM", syscall.EPERM},
}

// ParseErrno parses the name of an errno a deny rule may give: "EACCES",
// "ENOENT" or "EPERM".
func ParseErrno(s string) (syscall.Errno, error) {
	for _, e := range denyErrnos {
		if s == e.name {
			return e.errno, nil
		}
	}
	return 0, fmt.Errorf("unknown errno %q (want EACCES, ENOENT or EPERM)", s)
}

// ErrnoName returns the symbolic name of an errno a deny rule may give, or
// the number for any other.
func ErrnoName(e syscall.Errno) string {
	for _, d := range denyErrnos {
		if e == d.errno {
			return d.name
		}
	}
	return "errno " + strconv.Itoa(int(e))
}

// HostPaths returns the host paths that stand for r.Path, highest first:
// the lower layers of a redirect (r.Path itself when To is empty), or r.Path
// for a grant. Ask and deny rules have none.
func (r *Rule) HostPaths() []string {
	switch r.Action {
	case Redirect:
		if len(r.To) > 0 {
			return r.To
		}
		return []string{r.Path}
	case Grant:
		return []string{r.Path}
	}
	return nil
}

// String renders the rule for messages, e.g.
// `/usr redirect [/sdk/usr /usr] (strict.toml:12)`.
func (r *Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Path)
	b.WriteByte(' ')
	b.WriteString(r.Action.String())
	switch {
	case r.Action == Redirect && len(r.To) > 0:
		b.WriteString(" [")
		b.WriteString(strings.Join(r.To, " "))
		b.WriteByte(']')
	case r.Action == Deny && r.Errno != 0:
		b.WriteByte(' ')
		b.WriteString(ErrnoName(r.Errno))
	}
	if r.Source != "" {
		b.WriteString(" (")
		b.WriteString(r.Source)
		b.WriteByte(')')
	}
	return b.String()
}
