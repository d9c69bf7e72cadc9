// Package tracer owns the ptrace engine: it launches the command under a
// seccomp filter, follows every process and thread it creates, and at each
// trapped syscall asks a Resolver what host path (or errno) each guest path
// argument stands for, then rewrites the argument in the tracee. It keeps
// the decision (the Resolver) apart from the mechanism (this package).
package tracer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/internal/linux"
	"github.com/vroot-dev/vroot/redirect"
)

// Resolver decides what a guest path means. It must be safe for concurrent
// use; the engine calls it from its own goroutine.
type Resolver interface {
	Resolve(req redirect.Request) redirect.Answer
	GuestPath(host string) (string, bool)
	Invalidate(guest string)
	// Commit finishes an answer whose After is set, once the syscall's
	// outcome is known.
	Commit(a redirect.Answer, ok bool)
	// ResolveRename and ResolveLink resolve both paths of a rename or a
	// link together, in the order the kernel checks them.
	ResolveRename(old, new redirect.Request) (redirect.Answer, redirect.Answer)
	ResolveLink(old, new redirect.Request) (redirect.Answer, redirect.Answer)
}

// Decision is reported for every answer that was not a plain pass-through.
type Decision struct {
	Pid     int
	Syscall string
	Request redirect.Request
	Answer  redirect.Answer
}

// Config describes one traced run.
type Config struct {
	Args []string
	Env  []string
	// Dir is the guest working directory (absolute).
	Dir      string
	Stdin    *os.File
	Stdout   *os.File
	Stderr   *os.File
	Resolver Resolver
	Logger   hclog.Logger
	// Strict adds kernel-enforced containment (strict_linux.go): Landlock
	// limits writes to Config.Writable, and the scratch area is read-only
	// to the tracee.
	Strict bool
	// Writable lists the host paths (directories or files) the build may
	// write under --strict: the stage, the granted paths, device nodes.
	Writable []string

	// OnStart is called when a new task appears, before it runs.
	OnStart func(pid int)
	// OnSignaled is called when a process dies of a signal.
	OnSignaled func(pid int, sig syscall.Signal)
	// OnDecision is called for errno answers and rewritten paths.
	OnDecision func(d Decision)
	// OnRead is called for each open for reading or exec whose answer
	// names a file of a lower layer (Answer.Layer set), with the thread
	// group id. It runs on the tracer's thread at every such stop: it must
	// not allocate or block in the steady state.
	OnRead func(pid int, a redirect.Answer)
	// OnExec is called when a process (thread group id) has exec'd.
	OnExec func(pid int)
	// Net is the network policy; OnNet is called for every inet or inet6
	// bind, connect and addressed send it looked at.
	Net   NetPolicy
	OnNet func(ev NetEvent)

	// Fakeroot, when set, makes the build believe it runs as root and
	// records in this store what it cannot do for real (see fakeroot.go).
	// Nil: no fakeroot, and no stop is added.
	Fakeroot FakerootStore
}

// Exit is how the command ended.
type Exit struct {
	// Code is the exit status, or 128+N for death by signal N.
	Code   int
	Signal syscall.Signal
}

// ErrNotPermitted means the kernel refused to let vroot trace.
var ErrNotPermitted = errors.New("ptrace is not permitted here")

// Run starts cfg.Args under the tracer and follows the whole tree until
// every traced process has exited. Cancelling ctx kills the tree.
func Run(ctx context.Context, cfg Config) (Exit, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if len(cfg.Args) == 0 {
		return Exit{Code: 125}, errors.New("no command")
	}
	if cfg.Strict {
		if err := checkLandlock(); err != nil {
			return Exit{Code: 125}, err
		}
	}
	type result struct {
		exit Exit
		err  error
	}
	done := make(chan result, 1)
	e := newEngine(cfg)
	go func() {
		// Every ptrace request must come from the thread that seized the
		// tracees: this goroutine owns that thread for the whole run.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		ex, err := e.run()
		done <- result{ex, err}
	}()
	stopKiller := make(chan struct{})
	defer close(stopKiller)
	go func() {
		select {
		case <-ctx.Done():
			e.killAll()
		case <-stopKiller:
		}
	}()
	r := <-done
	return r.exit, r.err
}

type fsState struct {
	guestCwd string
	hostCwd  string
}

type mmState struct {
	scratch uintptr
	sealed  bool // --strict: mseal was tried on the scratch area
}

type exitAction uint8

const (
	exitNone       exitAction = iota
	exitMmap                  // scratch mapping injected: record it and restart
	exitMseal                 // --strict: scratch mapping sealed: restart
	exitChdir                 // record the new cwd on success
	exitFchdir                // re-read the cwd on success
	exitReadlink              // map a magic link's host target back to the guest
	exitInvalidate            // drop cached resolutions after a mutation
	exitCommit                // hand the outcome to the resolver (overlay bookkeeping)
	exitFake                  // only --fakeroot's work (task.fk)
)

type task struct {
	tid, tgid int
	fs        *fsState
	mm        *mmState
	attached  bool

	exit       exitAction
	saved      unix.PtraceRegs // registers of the syscall an injection interrupted
	exitGuest  [2]string
	exitHost   string
	exitBuf    uint64
	exitSize   uint64
	cloneFlags uint64
	cloneValid bool
	commits    [2]redirect.Answer
	ncommits   int
	fk         fakeExit // --fakeroot's work at the exit stop
}

type engine struct {
	cfg  Config
	log  hclog.Logger
	res  Resolver
	root int

	tasks map[int]*task
	early map[int]bool // stopped children seen before their parent's event

	rootExit   Exit
	rootDone   bool
	setInfoOK  int  // 0 unknown, 1 supported, -1 not
	sealWarned bool // --strict: the mseal warning was logged once

	liveMu sync.Mutex
	live   map[int]struct{}
	killed bool

	info linux.SyscallInfo
	regs unix.PtraceRegs
	buf  []byte

	// Per-stop state, reused so that a stop allocates nothing: the stop
	// being handled, the bytes its scratch writes copy from (one slot's
	// worth), and the strings made from tracee memory.
	cur      stop
	arena    []byte
	arenaOff int
	paths    internTable
	joins    joinTable
	procPath []byte
	fake     FakerootStore
	fbuf     [statxSize]byte
}

func newEngine(cfg Config) *engine {
	return &engine{
		cfg:   cfg,
		log:   cfg.Logger,
		res:   cfg.Resolver,
		tasks: make(map[int]*task),
		early: make(map[int]bool),
		live:  make(map[int]struct{}),
		buf:   make([]byte, pathMax+1),
		arena: make([]byte, slotSize),
		fake:  cfg.Fakeroot,
	}
}

const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACESECCOMP |
	unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACECLONE |
	unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACEEXIT | unix.PTRACE_O_EXITKILL

// run launches the init and drives the wait loop.
//
// Preconditions: called on a locked OS thread that stays locked.
func (e *engine) run() (Exit, error) {
	// Orphans of the build are reparented to vroot, so they stay followed
	// and reaped; no other process can read or write vroot's memory.
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)

	guestCwd := e.cfg.Dir
	if guestCwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return Exit{Code: 125}, err
		}
		guestCwd = wd
	}
	ans := e.res.Resolve(redirect.Request{Path: guestCwd, Op: redirect.OpChdir, Follow: true, Pid: os.Getpid(), Tid: os.Getpid()})
	if ans.Errno != 0 {
		return Exit{Code: 125}, fmt.Errorf("working directory %s: %w", guestCwd, ans.Errno)
	}
	hostCwd := ans.Host

	self, err := os.Executable()
	if err != nil {
		return Exit{Code: 125}, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return Exit{Code: 125}, err
	}
	env := e.cfg.Env
	if env == nil {
		env = os.Environ()
	}
	marker := "1"
	if e.fake != nil {
		marker = initFakeroot
	}
	env = append(env[:len(env):len(env)], initMarker+"="+marker)
	files := []uintptr{fdOf(e.cfg.Stdin, os.Stdin), fdOf(e.cfg.Stdout, os.Stdout), fdOf(e.cfg.Stderr, os.Stderr), pr.Fd()}
	if e.cfg.Strict {
		// The init's Landlock rules: one O_PATH fd per writable path.
		wr := openWritable(e.cfg.Writable)
		defer func() {
			for _, f := range wr {
				f.Close()
			}
		}()
		for _, f := range wr {
			files = append(files, f.Fd())
		}
		env = append(env, fmt.Sprintf("%s=%d", strictEnv, len(wr)))
	}
	pid, err := syscall.ForkExec(self, append([]string{"vroot-init"}, e.cfg.Args...), &syscall.ProcAttr{
		Dir:   hostCwd,
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	pr.Close()
	if err != nil {
		pw.Close()
		return Exit{Code: 125}, fmt.Errorf("starting the tracer's init: %w", err)
	}
	e.root = pid
	if err := linux.Seize(pid, ptraceOptions); err != nil {
		pw.Close()
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		linux.Wait4(pid, &ws, 0)
		if errors.Is(err, unix.EPERM) {
			return Exit{Code: 125}, fmt.Errorf("%w (%v): allow ptrace of child processes (kernel.yama.ptrace_scope <= 1; for a container: --cap-add SYS_PTRACE or a seccomp profile that allows ptrace)", ErrNotPermitted, err)
		}
		return Exit{Code: 125}, err
	}
	t := &task{tid: pid, tgid: pid, fs: &fsState{guestCwd: ans.Guest, hostCwd: trimSlash(hostCwd)}, mm: &mmState{}, attached: true}
	e.addTask(t)
	if _, err := pw.Write([]byte{1}); err != nil {
		pw.Close()
		return Exit{Code: 125}, err
	}
	pw.Close()
	return e.loop()
}

func fdOf(f, def *os.File) uintptr {
	if f == nil {
		f = def
	}
	return f.Fd()
}

func (e *engine) addTask(t *task) {
	e.tasks[t.tid] = t
	e.liveMu.Lock()
	e.live[t.tid] = struct{}{}
	killed := e.killed
	e.liveMu.Unlock()
	if killed {
		unix.Kill(t.tid, unix.SIGKILL)
	}
	if e.cfg.OnStart != nil {
		e.cfg.OnStart(t.tid)
	}
}

func (e *engine) dropTask(tid int) {
	delete(e.tasks, tid)
	e.liveMu.Lock()
	delete(e.live, tid)
	e.liveMu.Unlock()
}

// killAll ends the whole tree; safe from any goroutine.
func (e *engine) killAll() {
	e.liveMu.Lock()
	e.killed = true
	for tid := range e.live {
		unix.Tgkill(tid, tid, unix.SIGKILL)
		unix.Kill(tid, unix.SIGKILL)
	}
	e.liveMu.Unlock()
}

// loop is the single wait loop of the tracer.
//
// Preconditions: called on the locked OS thread that seized the tracees.
func (e *engine) loop() (Exit, error) {
	for {
		var ws unix.WaitStatus
		wpid, err := linux.Wait4(-1, &ws, unix.WALL)
		if err != nil {
			if errors.Is(err, unix.ECHILD) {
				break
			}
			return Exit{Code: 125}, err
		}
		e.handle(wpid, ws)
	}
	if !e.rootDone {
		return Exit{Code: 125}, errors.New("the command's exit status was lost")
	}
	return e.rootExit, nil
}

func (e *engine) handle(tid int, ws unix.WaitStatus) {
	switch {
	case ws.Exited() || ws.Signaled():
		e.reap(tid, ws)
		return
	case !ws.Stopped():
		return
	}
	t := e.tasks[tid]
	if t == nil {
		if int(uint32(ws)>>16)&0xff == unix.PTRACE_EVENT_EXIT {
			// A new child killed before its parent's fork event (SIGKILL
			// skips that event): let it die now, or a killed thread
			// group's zombie is never reported to its parent.
			if err := linux.Cont(tid, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				e.log.Debug("cont", "tid", tid, "error", err)
			}
			return
		}
		// A new child can report its first stop before its parent reports
		// the fork event: hold it until the parent says who it is.
		e.early[tid] = true
		return
	}
	sig := ws.StopSignal()
	event := int(uint32(ws)>>16) & 0xff
	switch {
	case event == unix.PTRACE_EVENT_SECCOMP:
		e.onSeccomp(t)
	case sig == unix.SIGTRAP|0x80:
		e.onSyscallExit(t)
	case event == unix.PTRACE_EVENT_FORK || event == unix.PTRACE_EVENT_VFORK || event == unix.PTRACE_EVENT_CLONE:
		e.onNewChild(t, event)
	case event == unix.PTRACE_EVENT_EXEC:
		e.onExec(t)
	case event == unix.PTRACE_EVENT_EXIT:
		e.resume(t, 0)
	case event == unix.PTRACE_EVENT_STOP:
		switch {
		case !t.attached:
			t.attached = true
			e.resume(t, 0)
		case sig == unix.SIGSTOP || sig == unix.SIGTSTP || sig == unix.SIGTTIN || sig == unix.SIGTTOU:
			// Group-stop: stay stopped, but let the tracer see SIGCONT.
			if err := linux.Listen(t.tid); err != nil {
				e.log.Debug("listen", "tid", t.tid, "error", err)
			}
		default:
			e.resume(t, 0)
		}
	default:
		// Signal-delivery stop: deliver it as the kernel would have.
		e.resume(t, int(sig))
	}
}

func (e *engine) resume(t *task, sig int) {
	if err := linux.Cont(t.tid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
		e.log.Debug("cont", "tid", t.tid, "error", err)
	}
}

func (e *engine) reap(tid int, ws unix.WaitStatus) {
	t := e.tasks[tid]
	e.dropTask(tid)
	delete(e.early, tid)
	if ws.Signaled() && (t == nil || t.tid == t.tgid) && e.cfg.OnSignaled != nil {
		e.cfg.OnSignaled(tid, ws.Signal())
	}
	if tid == e.root {
		e.rootDone = true
		if ws.Signaled() {
			e.rootExit = Exit{Code: 128 + int(ws.Signal()), Signal: ws.Signal()}
		} else {
			e.rootExit = Exit{Code: ws.ExitStatus()}
		}
	}
}

func (e *engine) onNewChild(t *task, event int) {
	msg, err := linux.GetEventMsg(t.tid)
	if err != nil {
		e.resume(t, 0)
		return
	}
	child := int(msg)
	var flags uint64
	switch {
	case t.cloneValid:
		flags = t.cloneFlags
	case event == unix.PTRACE_EVENT_VFORK:
		flags = unix.CLONE_VM | unix.CLONE_VFORK
	case event == unix.PTRACE_EVENT_CLONE:
		flags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_THREAD
	}
	t.cloneValid = false
	c := &task{tid: child, tgid: child}
	if flags&unix.CLONE_THREAD != 0 {
		c.tgid = t.tgid
	}
	if flags&unix.CLONE_FS != 0 {
		c.fs = t.fs
	} else {
		fs := *t.fs
		c.fs = &fs
	}
	if flags&unix.CLONE_VM != 0 {
		c.mm = t.mm
	} else {
		mm := *t.mm
		c.mm = &mm
	}
	e.addTask(c)
	if e.early[child] {
		delete(e.early, child)
		c.attached = true
		e.resume(c, 0)
	}
	e.resume(t, 0)
}

func (e *engine) onExec(t *task) {
	if msg, err := linux.GetEventMsg(t.tid); err == nil && int(msg) != t.tid {
		// A non-leader thread called execve: it now carries the leader's
		// tid, and the thread group's other tasks are gone.
		if ft := e.tasks[int(msg)]; ft != nil {
			e.dropTask(ft.tid)
			ft.tid = t.tid
			e.tasks[t.tid] = ft
			t = ft
		}
	}
	for tid, o := range e.tasks {
		if o.tgid == t.tgid && tid != t.tid {
			e.dropTask(tid)
		}
	}
	t.tgid = t.tid
	t.mm = &mmState{}
	t.exit = exitNone
	t.attached = true
	if e.cfg.OnExec != nil {
		e.cfg.OnExec(t.tgid)
	}
	e.resume(t, 0)
}

func trimSlash(p string) string {
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
