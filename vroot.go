// Package vroot is the public Go API for embedding vroot: Run executes a
// command under the tracer with a virtual root described by a filemap. The
// vroot command-line tool (cmd/vroot) is a thin layer over this package.
package vroot

import (
	"context"
	"os"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vroot-dev/vroot/ask"
	"github.com/vroot-dev/vroot/filemap"
)

// Exit codes of the vroot tool, after the env/timeout convention.
const (
	ExitVrootError    = 125 // vroot's own failure (bad flags, profile, tracer)
	ExitNotExecutable = 126
	ExitNotFound      = 127
)

// Config describes one traced run.
type Config struct {
	// Args is the command and its arguments; Args[0] is looked up in the
	// guest's PATH (from Env) like a shell would.
	Args []string
	// Env is the command's environment; nil means os.Environ().
	Env []string
	// Dir is the guest working directory; empty means the current one.
	Dir string
	// Stdin, Stdout and Stderr; nil means vroot's own.
	Stdin, Stdout, Stderr *os.File
	// Map is the filemap. Required.
	Map *filemap.Map
	// Stage is the staging directory that receives the writes made under
	// redirect rules; it is created if missing and locked for the run.
	// Empty means no stage: such writes fail with EROFS.
	Stage string
	// Fakeroot makes the build believe it runs as root: owners, modes,
	// device nodes and security xattrs it sets on staged files are
	// recorded in the stage (which it requires) and reported by stat.
	Fakeroot bool
	// Net is the network policy: "allow" (or empty), "loopback" or "none".
	// See docs/report.md for what each refuses, and with which errno.
	Net string
	// MaxReads bounds the distinct files Result.Reads lists (0 means
	// DefaultMaxReads); reads past it are counted in ReadsDropped.
	MaxReads int
	// Strict adds kernel-enforced containment on top of the trace
	// (docs/security.md): Landlock lets the build write only beneath the
	// stage, the granted paths and the few device nodes every build writes,
	// so a race on a path buffer cannot write anywhere else. Run fails
	// (ExitVrootError) when the kernel has no Landlock ABI 3 or later.
	Strict bool
	// Logger receives vroot's own logs; nil means hclog's null logger.
	Logger hclog.Logger
	// Hooks are called from the tracer; they must be quick and must not
	// block.
	Hooks Hooks
	// OnlyDeps, when not nil, is the list of packages the build declares
	// (its Build-Depends): reads of host files that dpkg's database says
	// belong only to other packages, outside the dependency closure of the
	// list, of build-essential and of the Essential packages, fail with
	// ENOENT as if the files were not installed, and are recorded as
	// violations of rule "only-deps" (see package deps for what counts as
	// a read and how the closure is computed). Unowned files, directories,
	// granted paths and the SDK layers are not affected.
	OnlyDeps []string

	// Ask decides the accesses under ask rules (see package ask for the
	// handler kinds; ask.Func makes one of a Go callback). Nil refuses
	// every such access with EACCES. Answers are cached per path, or per
	// prefix when the handler says so. The handler is called from the
	// tracer: while it thinks, the traced processes that make a path
	// syscall wait, for at most AskTimeout.
	Ask ask.Handler
	// AskTimeout bounds each handler call; 0 means ask.DefaultTimeout.
	AskTimeout time.Duration
	// AskDefault is the answer when the handler fails or times out:
	// false (the default) denies.
	AskDefault bool
}

// Hooks are catbox-style event callbacks.
type Hooks struct {
	// ChildStarted is called when a new traced process or thread appears,
	// before it runs.
	ChildStarted func(pid int)
	// ChildDied is called when a traced process dies of a signal it did not
	// handle (not a normal exit).
	ChildDied func(pid int, sig syscall.Signal)
	// Decided is called when a rule other than grant decided a path access.
	Decided func(d Decision)
	// Undeclared is called once per distinct file that Config.OnlyDeps
	// hid, with its path and the package(s) that own it ("a, b").
	Undeclared func(path, pkg string)
}

// Decision is one filemap decision, for logging and reports.
type Decision struct {
	Pid     int
	Syscall string
	Guest   string
	Host    string
	Errno   syscall.Errno
	Rule    *filemap.Rule
}

// Violation is an access a deny rule refused.
type Violation struct {
	Pid     int
	Command string // the process's command line, when it could be read
	Syscall string
	Op      string // read, exec, chdir, write, create, delete, move
	Guest   string
	Errno   syscall.Errno
	Rule    string // the deny rule's source, or "only-deps"
}

// Result is what a run did.
type Result struct {
	// ExitCode is the command's exit status; 128+N if it died of signal N;
	// 126/127 if it could not be executed or found.
	ExitCode int
	// Signal is the signal that killed the command, or 0.
	Signal syscall.Signal
	// Started is when the run started; Duration its wall time.
	Started  time.Time
	Duration time.Duration
	// Violations lists the accesses deny rules refused.
	Violations []Violation
	// Stage summarises the stage after the run.
	Stage StageSummary
	// Reads lists the files the build read from a lower layer (the host or
	// an SDK), one entry per guest path, with the process that read it
	// first.
	Reads []Read
	// Asks lists the decisions of ask rules, in the order they were made.
	Asks []AskRecord
	// Network lists the network attempts the policy looked at, once per
	// syscall, address and outcome.
	Network []NetAttempt
	// ReadsDropped and NetworkDropped count what was not listed because
	// the bounds were reached (Config.MaxReads; 10000 network entries).
	ReadsDropped, NetworkDropped int
}

// Read is a file the build read from a lower layer.
type Read struct {
	Layer   string `json:"layer"` // "host", or the layer's directory
	Path    string `json:"path"`  // the guest path
	Host    string `json:"host"`  // the host path read
	Pid     int    `json:"pid"`   // the first process that read it
	Command string `json:"command,omitempty"`
}

// AskRecord is one decision of an ask rule.
type AskRecord struct {
	Pid      int    `json:"pid"`
	Command  string `json:"command,omitempty"`
	Op       string `json:"op"`
	Path     string `json:"path"`
	Answer   string `json:"answer"`  // "allow" or "deny"
	Handler  string `json:"handler"` // which handler answered
	Cached   bool   `json:"cached,omitempty"`
	TimedOut bool   `json:"timed_out,omitempty"`
	Error    string `json:"error,omitempty"`
}

// NetAttempt is one network operation the policy looked at.
type NetAttempt struct {
	Pid     int    `json:"pid"`
	Command string `json:"command,omitempty"`
	Syscall string `json:"syscall"`
	Family  string `json:"family"`  // "inet", "inet6"
	Address string `json:"address"` // host:port
	Allowed bool   `json:"allowed"`
	Errno   string `json:"errno,omitempty"`
	// Rewritten is the address the call ran with instead (a wildcard
	// bind narrowed to loopback).
	Rewritten string `json:"rewritten,omitempty"`
	Count     int    `json:"count"` // attempts with the same syscall, address and outcome
}

// StageSummary counts what a stage holds.
type StageSummary struct {
	Dir                      string
	Added, Modified, Deleted int
	// Changes lists the stage's entries, sorted by path.
	Changes []Change
}

// Change is one entry of a stage: Kind 'A' (added), 'M' (a host file
// modified: copied up) or 'D' (a host file deleted: a whiteout), and the
// guest path.
type Change struct {
	Kind byte
	Path string
}

// Run executes cfg.Args under the tracer and waits for the whole process
// tree to finish. Cancelling ctx kills the tree. The returned error is
// vroot's own failure; the command's failure is in Result.ExitCode.
func Run(ctx context.Context, cfg Config) (Result, error) {
	return run(ctx, cfg)
}
