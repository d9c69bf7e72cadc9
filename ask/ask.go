// Package ask owns the decisions of ask rules: the Handler abstraction and
// its kinds (fixed answers, a prompt on the controlling terminal, a command
// run per request, a JSON-lines peer on a unix socket, a Go callback), and
// the Asker that stands between the resolver and a handler: it caches
// answers per path or per prefix, serialises handler calls, bounds each by a
// timeout that falls back to a default answer, and records every decision
// for the report. It knows nothing of ptrace or of the filemap beyond a
// rule's path.
package ask

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Request is one access under an ask rule. Its JSON form is what the exec
// and socket handlers receive (see docs/ask-protocol.md).
type Request struct {
	// ID numbers a socket handler's requests (1, 2, ...); 0 elsewhere.
	ID uint64 `json:"id,omitempty"`
	// Pid is the process (thread group) that makes the access.
	Pid int `json:"pid"`
	// Command is the process's command line, arguments joined by spaces.
	Command string `json:"command,omitempty"`
	// Op is the access the syscall makes: read, exec, chdir, write,
	// create, delete or move. For a directory the request only walks
	// through, it is still the op of the whole syscall.
	Op string `json:"op"`
	// Path is the canonical guest path under the ask rule: the file the
	// syscall names, or a directory it walks through.
	Path string `json:"path"`
	// Rule is the path of the ask rule that matched.
	Rule string `json:"rule"`
}

// Scope says which paths an answer covers.
type Scope uint8

const (
	// ScopePath: the answer covers Request.Path only.
	ScopePath Scope = iota
	// ScopePrefix: the answer covers Answer.Prefix (Request.Path if empty)
	// and everything below it.
	ScopePrefix
)

// Answer is a handler's decision.
type Answer struct {
	Allow bool
	Scope Scope
	// Prefix, with ScopePrefix, is the guest directory the answer covers;
	// it must be Request.Path or one of its ancestors. A prefix above the
	// rule's path is narrowed to the rule's path: one rule's answer never
	// decides for another.
	Prefix string
}

// String is "allow" or "deny", as in reports.
func (a Answer) String() string {
	if a.Allow {
		return "allow"
	}
	return "deny"
}

// Handler decides requests. Ask is called for one request at a time (the
// Asker serialises calls); it must return soon after ctx is done, which
// happens when the Asker's timeout expires.
type Handler interface {
	Ask(ctx context.Context, req Request) (Answer, error)
	// Name says which handler answered, in reports: "deny", "tty",
	// "socket:/run/x.sock", ...
	Name() string
}

// Func is a Go callback as a Handler: the embedding API's way to decide.
type Func func(ctx context.Context, req Request) (Answer, error)

// Ask calls f.
func (f Func) Ask(ctx context.Context, req Request) (Answer, error) { return f(ctx, req) }

// Name is "func".
func (f Func) Name() string { return "func" }

// Fixed answers every request the same way, for the whole rule: the deny
// and grant handlers.
type Fixed bool

// Ask answers with f for the request's whole rule.
func (f Fixed) Ask(_ context.Context, req Request) (Answer, error) {
	return Answer{Allow: bool(f), Scope: ScopePrefix, Prefix: req.Rule}, nil
}

// Name is "grant" or "deny".
func (f Fixed) Name() string {
	if f {
		return "grant"
	}
	return "deny"
}

// Env is what Parse may give the handlers it makes.
type Env struct {
	// Stderr receives the exec handler's standard error; nil discards it.
	Stderr io.Writer
	// TTY is the terminal the tty handler opens; empty means /dev/tty.
	TTY string
}

// Kinds lists the handler specs Parse accepts, for help texts.
const Kinds = "deny, grant, tty, exec:CMD or socket:PATH"

// Parse makes the handler a spec names: deny, grant, tty, exec:CMD (CMD
// run by sh -c per request) or socket:PATH. Nothing is opened yet: the tty
// and the socket are opened on the first request.
func Parse(spec string, env Env) (Handler, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch {
	case spec == "deny":
		return Fixed(false), nil
	case spec == "grant":
		return Fixed(true), nil
	case spec == "tty":
		return NewTTY(env.TTY), nil
	case kind == "exec" && hasArg:
		if strings.TrimSpace(arg) == "" {
			return nil, errors.New("exec: empty command")
		}
		return &Exec{Command: arg, Stderr: env.Stderr}, nil
	case kind == "socket" && hasArg:
		if arg == "" {
			return nil, errors.New("socket: empty path")
		}
		return &Socket{Path: arg}, nil
	}
	return nil, fmt.Errorf("unknown ask handler %q (want %s)", spec, Kinds)
}
