package vroot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

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
	if cfg.Stage != "" {
		return Result{ExitCode: ExitVrootError}, errors.New("--stage: " + ErrNotImplemented.Error() + " (the overlay lands with the stage work)")
	}
	if cfg.Fakeroot {
		return Result{ExitCode: ExitVrootError}, errors.New("--fakeroot: " + ErrNotImplemented.Error())
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
	res := redirect.New(cfg.Map, redirect.Options{})

	var mu sync.Mutex
	var violations []Violation
	tc := tracer.Config{
		Args:     cfg.Args,
		Env:      cfg.Env,
		Dir:      dir,
		Stdin:    cfg.Stdin,
		Stdout:   cfg.Stdout,
		Stderr:   cfg.Stderr,
		Resolver: res,
		Logger:   log,
		OnStart:  cfg.Hooks.ChildStarted,
		OnSignaled: func(pid int, sig syscall.Signal) {
			if cfg.Hooks.ChildDied != nil {
				cfg.Hooks.ChildDied(pid, sig)
			}
		},
		OnDecision: func(d tracer.Decision) {
			if d.Answer.Errno != 0 && d.Answer.Rule != nil && d.Answer.Rule.Action == filemap.Deny {
				mu.Lock()
				violations = append(violations, Violation{Pid: d.Pid, Syscall: d.Syscall, Guest: d.Request.Path, Errno: d.Answer.Errno, Rule: d.Answer.Rule.Source})
				mu.Unlock()
				log.Debug("denied", "pid", d.Pid, "syscall", d.Syscall, "path", d.Request.Path, "errno", d.Answer.Errno)
			}
			if cfg.Hooks.Decided != nil {
				cfg.Hooks.Decided(Decision{Pid: d.Pid, Syscall: d.Syscall, Guest: d.Request.Path, Host: d.Answer.Host, Errno: d.Answer.Errno, Rule: d.Answer.Rule})
			}
		},
	}
	ex, err := tracer.Run(ctx, tc)
	r := Result{ExitCode: ex.Code, Signal: ex.Signal, Duration: time.Since(start), Violations: violations}
	if err != nil {
		r.ExitCode = ExitVrootError
	}
	return r, err
}
