package vroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vroot-dev/vroot/ask"
	"github.com/vroot-dev/vroot/deps"
	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/redirect"
	"github.com/vroot-dev/vroot/tracer"
)

// MaybeInit must be the first call of main in every program that calls
// Run: vroot re-executes its own binary as the init of the traced command.
func MaybeInit() { tracer.MaybeInit() }

func run(ctx context.Context, cfg Config) (Result, error) {
	start := time.Now()
	if cfg.Map == nil {
		return Result{ExitCode: ExitVrootError}, errors.New("vroot: Config.Map is required")
	}
	if cfg.Fakeroot && cfg.Stage == "" {
		return Result{ExitCode: ExitVrootError}, errors.New("vroot: Config.Fakeroot needs a Config.Stage (the owners are recorded there)")
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	dir := cfg.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return Result{ExitCode: ExitVrootError}, err
		}
		dir = wd
	}
	if !filepath.IsAbs(dir) {
		return Result{ExitCode: ExitVrootError}, errors.New("vroot: Config.Dir must be absolute")
	}
	var stage *redirect.Stage
	if cfg.Stage != "" {
		st, err := redirect.OpenStage(cfg.Stage)
		if err != nil {
			return Result{ExitCode: ExitVrootError}, err
		}
		defer st.Close()
		stage = st
	}
	netPolicy, ok := tracer.ParseNetPolicy(cfg.Net)
	if !ok {
		return Result{ExitCode: ExitVrootError}, fmt.Errorf("vroot: Config.Net %q: want allow, loopback or none", cfg.Net)
	}
	asker := ask.New(cfg.Ask, ask.Options{Timeout: cfg.AskTimeout, Default: cfg.AskDefault})
	opt := redirect.Options{Stage: stage, AskFunc: askFunc(asker)}
	if cfg.OnlyDeps != nil {
		hide, err := onlyDeps(cfg.OnlyDeps, cfg.Hooks.Undeclared)
		if err != nil {
			return Result{ExitCode: ExitVrootError}, err
		}
		opt.Hide = hide
	}
	res := redirect.New(cfg.Map, opt)

	rec := newRecorder(cfg.MaxReads)
	tc := tracer.Config{
		Args:     cfg.Args,
		Env:      cfg.Env,
		Dir:      dir,
		Stdin:    cfg.Stdin,
		Stdout:   cfg.Stdout,
		Stderr:   cfg.Stderr,
		Resolver: res,
		Logger:   log,
		OnStart: func(pid int) {
			rec.forget(pid)
			if cfg.Hooks.ChildStarted != nil {
				cfg.Hooks.ChildStarted(pid)
			}
		},
		OnExec: rec.forget,
		OnRead: rec.read,
		Net:    netPolicy,
		OnNet:  rec.netEvent,
		OnSignaled: func(pid int, sig syscall.Signal) {
			if cfg.Hooks.ChildDied != nil {
				cfg.Hooks.ChildDied(pid, sig)
			}
		},
		OnDecision: func(d tracer.Decision) {
			if d.Answer.Hidden {
				rec.violate(Violation{Pid: d.Pid, Syscall: d.Syscall, Op: opName(d.Request.Op), Guest: d.Answer.Guest, Errno: d.Answer.Errno, Rule: ruleOnlyDeps})
			}
			if d.Answer.Errno != 0 && d.Answer.Rule != nil && d.Answer.Rule.Action == filemap.Deny {
				rec.violate(Violation{Pid: d.Pid, Syscall: d.Syscall, Op: opName(d.Request.Op), Guest: d.Request.Path, Errno: d.Answer.Errno, Rule: d.Answer.Rule.Source})
				log.Debug("denied", "pid", d.Pid, "syscall", d.Syscall, "path", d.Request.Path, "errno", d.Answer.Errno)
			}
			if cfg.Hooks.Decided != nil {
				cfg.Hooks.Decided(Decision{Pid: d.Pid, Syscall: d.Syscall, Guest: d.Request.Path, Host: d.Answer.Host, Errno: d.Answer.Errno, Rule: d.Answer.Rule})
			}
		},
	}
	if cfg.Fakeroot {
		tc.Fakeroot = stage
	}
	if cfg.Strict {
		tc.Strict = true
		tc.Writable = strictWritable(cfg.Map, stage)
	}
	ex, err := tracer.Run(ctx, tc)
	r := Result{ExitCode: ex.Code, Signal: ex.Signal, Started: start, Duration: time.Since(start)}
	rec.results(&r)
	r.Asks = askRecords(asker)
	if err != nil {
		r.ExitCode = ExitVrootError
		return r, err
	}
	if stage != nil {
		r.Stage.Dir = stage.Dir()
		changes, err := stageChanges(stage)
		if err != nil {
			return r, err
		}
		r.Stage.Changes = changes
		for _, c := range changes {
			switch c.Kind {
			case 'A':
				r.Stage.Added++
			case 'M':
				r.Stage.Modified++
			case 'D':
				r.Stage.Deleted++
			}
		}
	}
	return r, nil
}

// StageStatus lists what the stage in dir holds, sorted by path. It takes
// the stage's lock, so it fails while a run uses the stage.
func StageStatus(dir string) ([]Change, error) {
	if _, err := os.Stat(filepath.Join(dir, ".vroot", "format")); err != nil {
		return nil, fmt.Errorf("%s is not a vroot stage", dir)
	}
	st, err := redirect.OpenStage(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return stageChanges(st)
}

// stageChanges is st's Status in the API's terms.
func stageChanges(st *redirect.Stage) ([]Change, error) {
	cs, err := st.Status()
	if err != nil {
		return nil, err
	}
	out := make([]Change, len(cs))
	for i, c := range cs {
		out[i] = Change{Kind: c.Kind, Path: c.Path}
	}
	return out, nil
}

// ruleOnlyDeps is the Violation.Rule of what Config.OnlyDeps hid.
const ruleOnlyDeps = "only-deps"

// onlyDeps builds the resolver's Hide hook from the host's dpkg database:
// a file none of whose owners the build declared is hidden with ENOENT,
// and reported once. The policy's lookups are precomputed per file; only a
// hidden file costs more (the report, once).
func onlyDeps(declared []string, report func(path, pkg string)) (func(dir, name string) syscall.Errno, error) {
	db, err := deps.Load("/")
	if err != nil {
		return nil, fmt.Errorf("--only-deps: %w", err)
	}
	pol, err := db.OnlyDeps(declared)
	if err != nil {
		return nil, fmt.Errorf("--only-deps: %w", err)
	}
	var seen sync.Map
	return func(dir, name string) syscall.Errno {
		pkg, hide := pol.Undeclared(dir, name)
		if !hide {
			return 0
		}
		p := filepath.Join(dir, name)
		if _, dup := seen.LoadOrStore(p, true); !dup && report != nil {
			report(p, pkg)
		}
		return syscall.ENOENT
	}, nil
}

// strictDevices are written by nearly every build, whatever the profile
// says about /dev: --strict lets them through Landlock (the trace still
// applies the rules).
var strictDevices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts"}

// strictWritable lists the host paths a --strict build may write beneath:
// the stage's root (every redirected write lands there), each grant rule's
// path, and strictDevices. Landlock cannot carve a redirected or denied
// path out of a granted one above it: such nested rules keep only the
// trace's protection.
func strictWritable(m *filemap.Map, stage *redirect.Stage) []string {
	var w []string
	if stage != nil {
		w = append(w, stage.Root())
	}
	for _, r := range m.Rules() {
		if r.Action == filemap.Grant {
			w = append(w, r.Path)
		}
	}
	return append(w, strictDevices...)
}
