package ask

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds one handler call when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// MaxTimeouts is how many handler calls in a row may time out before the
// Asker stops calling the handler and gives the default at once: a hung
// peer must cost the build a few timeouts, not one per path.
const MaxTimeouts = 3

// Options configure an Asker.
type Options struct {
	// Timeout bounds each handler call, including the wait for another
	// question's call to finish; zero means DefaultTimeout. After
	// MaxTimeouts calls in a row time out, the handler is not called again
	// and every new path gets Default. The resolver runs on the
	// tracer's goroutine, so while a handler thinks, every traced process
	// that makes a trapped syscall waits: this is what keeps that bounded.
	Timeout time.Duration
	// Default is the answer when the handler fails or times out.
	Default bool
}

// Record is one decision, for the report: one per guest path.
type Record struct {
	Pid      int
	Command  string
	Op       string
	Path     string
	Answer   string // "allow" or "deny"
	Handler  string
	Cached   bool // decided by an earlier prefix answer, not by a handler call
	TimedOut bool
	Error    string
}

// Asker decides requests through a handler, caching the answers. It is
// safe for concurrent use; handler calls are made one at a time.
type Asker struct {
	h       Handler
	timeout time.Duration
	def     bool

	sem chan struct{} // held while a handler call runs

	mu      sync.Mutex
	paths   map[string]bool // per-path answers
	pfx     map[string]bool // prefix answers: the prefix and all below
	records []Record
	strikes int // calls in a row that timed out
}

// New makes an Asker over h; a nil h refuses everything.
func New(h Handler, o Options) *Asker {
	if h == nil {
		h = Fixed(false)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return &Asker{h: h, timeout: o.Timeout, def: o.Default, sem: make(chan struct{}, 1),
		paths: map[string]bool{}, pfx: map[string]bool{}}
}

// Records returns the decisions made so far, in order.
func (a *Asker) Records() []Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Record(nil), a.records...)
}

// cached looks path up; the caller holds mu. A per-path answer wins over a
// prefix one, and a longer prefix over a shorter one.
func (a *Asker) cached(path string) (allow, exact, ok bool) {
	if v, ok := a.paths[path]; ok {
		return v, true, true
	}
	if len(a.pfx) == 0 {
		return false, false, false
	}
	for p := path; ; {
		if v, ok := a.pfx[p]; ok {
			return v, false, true
		}
		if p == "/" {
			return false, false, false
		}
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			p = "/"
		} else {
			p = p[:i]
		}
	}
}

// Decide answers req: true allows the access. A path decided for the first
// time by a prefix answer is recorded as cached; a path already decided is
// not recorded again.
func (a *Asker) Decide(req Request) bool {
	a.mu.Lock()
	if allow, exact, ok := a.cached(req.Path); ok {
		if !exact {
			a.paths[req.Path] = allow
			a.mu.Unlock()
			a.record(req, Record{Answer: answerName(allow), Handler: a.h.Name(), Cached: true})
			return allow
		}
		a.mu.Unlock()
		return allow
	}
	strikes := a.strikes
	a.mu.Unlock()
	if strikes >= MaxTimeouts {
		return a.settle(req, Answer{Allow: a.def}, Record{Error: fmt.Sprintf("handler not asked: %d questions in a row timed out", strikes)})
	}

	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		// Another question kept the handler busy all this time (a
		// handler that ignores ctx, still in a call that timed out).
		a.strike(true)
		return a.settle(req, Answer{Allow: a.def}, Record{TimedOut: true, Error: "handler busy: no answer within " + a.timeout.String()})
	}
	a.mu.Lock()
	if _, _, ok := a.cached(req.Path); ok {
		// Decided while this call waited for the handler: the second
		// Decide finds the answer and records it if it must.
		<-a.sem
		a.mu.Unlock()
		return a.Decide(req)
	}
	a.mu.Unlock()

	if req.Command == "" && req.Pid > 0 {
		req.Command = cmdline(req.Pid)
	}
	type result struct {
		ans Answer
		err error
	}
	done := make(chan result, 1)
	go func() {
		ans, err := a.h.Ask(ctx, req)
		done <- result{ans, err}
	}()
	select {
	case r := <-done:
		// The handler is released only once the answer is cached, so
		// that a caller waiting for it finds the answer.
		defer func() { <-a.sem }()
		if r.err != nil {
			var rec Record
			rec.Error = r.err.Error()
			if errors.Is(r.err, context.DeadlineExceeded) || errors.Is(r.err, os.ErrDeadlineExceeded) {
				rec.TimedOut = true
				rec.Error = "no answer within " + a.timeout.String() + ": " + rec.Error
			}
			a.strike(rec.TimedOut)
			return a.settle(req, Answer{Allow: a.def}, rec)
		}
		a.strike(false)
		return a.settle(req, r.ans, Record{})
	case <-ctx.Done():
		// The handler is released when the call returns: at once for
		// one that honours ctx; a later question waits for one that does
		// not, within its own timeout.
		go func() { <-done; <-a.sem }()
		a.strike(true)
		return a.settle(req, Answer{Allow: a.def}, Record{TimedOut: true, Error: "no answer within " + a.timeout.String()})
	}
}

// strike counts timeouts in a row; any other outcome resets the count.
func (a *Asker) strike(timedOut bool) {
	a.mu.Lock()
	if timedOut {
		a.strikes++
	} else {
		a.strikes = 0
	}
	a.mu.Unlock()
}

// settle caches ans for req and records it. A failed call's default is
// cached for the path too: the build must not see one file flip between
// readable and not, nor wait for a dead handler twice on the same path.
func (a *Asker) settle(req Request, ans Answer, rec Record) bool {
	a.mu.Lock()
	if ans.Scope == ScopePrefix {
		p := ans.Prefix
		if p == "" || !within(req.Path, p) {
			p = req.Path
		}
		if req.Rule != "" && !within(p, req.Rule) {
			p = req.Rule
		}
		a.pfx[p] = ans.Allow
	}
	a.paths[req.Path] = ans.Allow
	a.mu.Unlock()
	rec.Answer, rec.Handler = ans.String(), a.h.Name()
	a.record(req, rec)
	return ans.Allow
}

func (a *Asker) record(req Request, rec Record) {
	rec.Pid, rec.Op, rec.Path = req.Pid, req.Op, req.Path
	rec.Command = req.Command
	if rec.Command == "" && req.Pid > 0 {
		rec.Command = cmdline(req.Pid)
	}
	a.mu.Lock()
	a.records = append(a.records, rec)
	a.mu.Unlock()
}

func answerName(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

// within reports whether p is dir or below it, component-wise.
func within(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir) && p[len(dir)] == '/'
}

// cmdline is pid's command line, arguments joined by spaces; empty if it
// cannot be read.
func cmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\x00")
	return string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
}
