// Package cli owns vroot's command line: the grammar (vroot's flags, then
// the command, whose own flags are never touched), the subcommands, the
// order in which profiles and flags make up the filemap, what is printed,
// and how every outcome maps to an exit code (the command's own, or 125 for
// vroot's failures). cmd/vroot is a thin main over Main; the tracing itself
// belongs to the vroot package.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vroot-dev/vroot"
	"github.com/vroot-dev/vroot/filemap"
)

// exitError ends Main with a given exit code. With a nil err nothing more
// is printed: the command already spoke for itself, or run did.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Main runs vroot with args (without the program name) and returns the
// process exit code. Every error is printed once, on one line, as
// "vroot: ...".
func Main(ctx context.Context, args []string, stdin, stdout, stderr *os.File) int {
	return exitCode(run(ctx, args, stdin, stdout, stderr), stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	code := vroot.ExitVrootError
	var ee *exitError
	if errors.As(err, &ee) {
		code, err = ee.code, ee.err
	}
	if err != nil {
		// Lower layers sometimes say "vroot:" themselves; say it once.
		fmt.Fprintf(stderr, "vroot: %s\n", strings.TrimPrefix(err.Error(), "vroot: "))
	}
	return code
}

func run(ctx context.Context, args []string, stdin, stdout, stderr *os.File) error {
	o, err := parseArgs(args)
	if err != nil {
		return fmt.Errorf("%w (see vroot help)", err)
	}
	switch o.cmd {
	case cmdHelp:
		_, err := io.WriteString(stdout, usage())
		return err
	case cmdVersion:
		_, err := fmt.Fprintln(stdout, versionString())
		return err
	case cmdCheck:
		return check(o, stdout, stderr)
	case cmdStatus:
		return status(o.args, stdout)
	case cmdSDK:
		return sdkCommand(ctx, o.args, stdout, stderr)
	case cmdDeps:
		return depsCommand(o.args, stdout)
	case cmdPack:
		return packCommand(o.args, stdout)
	case cmdRun:
		if len(o.args) == 0 {
			fmt.Fprintf(stderr, "vroot: no command given\n\n%s", usage())
			return &exitError{code: vroot.ExitVrootError}
		}
		return runCommand(ctx, o, stdin, stdout, stderr)
	default:
		return fmt.Errorf("%s: unknown subcommand", o.cmd)
	}
}

// loadPlan reads the host's environment and builds the filemap from the
// profiles and flags.
func loadPlan(o *options) (env, *plan, error) {
	e, err := hostEnv()
	if err != nil {
		return env{}, nil, err
	}
	p, err := makePlan(o, e)
	return e, p, err
}

// check loads and compiles the filemap exactly as a run would, and prints
// it instead of running anything.
func check(o *options, stdout, stderr io.Writer) error {
	_, p, err := loadPlan(o)
	if err != nil {
		return err
	}
	if err := p.print(stdout); err != nil {
		return err
	}
	if o.onlyDeps != nil {
		// What a run would let the build see: its packages are the
		// whole story of --only-deps.
		allowed, err := onlyDepsClosure(dpkgRoot, o.onlyDeps)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "only-deps: %s\n", strings.Join(allowed, " ")); err != nil {
			return err
		}
	}
	if hasAsk(p.m) {
		ac, err := o.askConfig(p.ask)
		if err != nil {
			return err
		}
		if err := ac.print(stdout); err != nil {
			return err
		}
	}
	return nil
}

// runCommand runs o.args under the tracer; its exit code becomes vroot's.
func runCommand(ctx context.Context, o *options, stdin, stdout, stderr *os.File) error {
	e, p, err := loadPlan(o)
	if err != nil {
		return err
	}
	ac, err := o.askConfig(p.ask)
	if err != nil {
		return err
	}
	handler, err := ac.handler(p.m, stderr)
	if err != nil {
		return err
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "vroot",
		Level:      o.level(),
		Output:     stderr,
		JSONFormat: o.logFormat == "json",
		Color:      hclog.ColorOff,
	})
	stage := o.stage
	if stage == "" {
		// Every run stages its writes; without --stage, into a new
		// directory the summary names.
		stage, err = os.MkdirTemp(os.Getenv("TMPDIR"), "vroot-stage-")
		if err != nil {
			return err
		}
	}
	cfg := vroot.Config{
		Stage:  stage,
		Args:   o.args,
		Env:    os.Environ(),
		Dir:    e.cwd,
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		Map:    p.m,
		Net:    p.net,
		Logger: log,
		// The declared packages, nil without --only-deps.
		OnlyDeps: o.onlyDeps,
		Fakeroot: o.fakeroot,
		Strict:   o.strict,

		Ask:        handler,
		AskTimeout: ac.timeout,
		AskDefault: ac.allow,

		Hooks: vroot.Hooks{Undeclared: func(path, pkg string) {
			// Printed as it happens, not in the summary: the build's own
			// error about the missing file follows it.
			fmt.Fprintf(stderr, "vroot: undeclared dependency: %s (%s)\n", path, pkg)
		}},
	}
	res, err := vroot.Run(ctx, cfg)
	if o.report != "" {
		// Written whatever happened: a failed build is when it is read.
		if werr := vroot.NewReport(cfg, res, err).WriteFile(o.report); werr != nil {
			werr = fmt.Errorf("--report %s: %w", o.report, werr)
			if err != nil {
				fmt.Fprintf(stderr, "vroot: %v\n", werr)
			} else {
				err = werr
			}
		}
	}
	// Printed even when Run failed: what was refused before the failure
	// may explain it.
	if !o.quiet {
		printViolations(stderr, res.Violations)
		printAsks(stderr, res.Asks)
		if err == nil {
			printSummary(stderr, res)
		}
	}
	if err != nil {
		return &exitError{code: vroot.ExitVrootError, err: err}
	}
	if res.ExitCode != 0 {
		return &exitError{code: res.ExitCode}
	}
	if o.output != "" {
		// After the run has closed the stage: pack takes its lock.
		var report io.Writer = stderr
		if o.quiet {
			report = io.Discard
		}
		return packStage(stage, packSpec{output: o.output, mtree: o.mtree, allowDeletions: o.allowDeletions}, report)
	}
	return nil
}

func printViolations(w io.Writer, vs []vroot.Violation) {
	for _, v := range vs {
		if v.Rule == "only-deps" {
			// Already reported, once per file, as undeclared dependencies.
			continue
		}
		fmt.Fprintf(w, "vroot: denied: %s %s (%s, rule %s)\n", v.Syscall, v.Guest, filemap.ErrnoName(v.Errno), v.Rule)
	}
}

// printSummary is the one-screen account of a run.
func printSummary(w io.Writer, r vroot.Result) {
	status := fmt.Sprintf("exit %d", r.ExitCode)
	if r.Signal != 0 {
		status = fmt.Sprintf("killed by %v (exit %d)", r.Signal, r.ExitCode)
	}
	fmt.Fprintf(w, "vroot: %s in %s; stage %s: %d added, %d modified, %d deleted; %d violations\n",
		status, r.Duration.Round(time.Millisecond), r.Stage.Dir, r.Stage.Added, r.Stage.Modified, r.Stage.Deleted, len(r.Violations))
}
