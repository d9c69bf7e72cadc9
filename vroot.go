// Package vroot is the public Go API for embedding vroot: Run executes a
// command under the tracer with a virtual root described by a filemap. The
// vroot command-line tool (cmd/vroot) is a thin layer over this package.
package vroot

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vroot-dev/vroot/filemap"
)

// Exit codes of the vroot tool, after the env/timeout convention.
const (
	ExitVrootError    = 125 // vroot's own failure (bad flags, profile, tracer)
	ExitNotExecutable = 126
	ExitNotFound      = 127
)

// ErrNotImplemented is returned for options that later work gives behaviour.
var ErrNotImplemented = errors.New("not implemented yet")

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
	// Fakeroot makes the build believe it runs as root (later work).
	Fakeroot bool
	// Logger receives vroot's own logs; nil means hclog's null logger.
	Logger hclog.Logger
	// Hooks are called from the tracer; they must be quick and must not
	// block.
	Hooks Hooks
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
	Syscall string
	Guest   string
	Errno   syscall.Errno
	Rule    string
}

// Result is what a run did.
type Result struct {
	// ExitCode is the command's exit status; 128+N if it died of signal N;
	// 126/127 if it could not be executed or found.
	ExitCode int
	// Signal is the signal that killed the command, or 0.
	Signal syscall.Signal
	// Duration is the wall time of the run.
	Duration time.Duration
	// Violations lists the accesses deny rules refused.
	Violations []Violation
	// Stage summarises the stage after the run.
	Stage StageSummary
}

// StageSummary counts what a stage holds.
type StageSummary struct {
	Dir                      string
	Added, Modified, Deleted int
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
