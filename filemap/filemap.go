// Package filemap owns the rules that decide, for every guest path, what the
// build may do there: grant (the host path, as is), redirect (the stage over
// ordered lower layers), ask (a handler decides) or deny (an errno). It also
// loads those rules from TOML profiles. It is pure: no tracing, no I/O other
// than reading profiles.
package filemap

import "syscall"

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
