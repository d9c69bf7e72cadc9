package ask

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// counting is a handler that answers from a table and counts its calls.
type counting struct {
	mu    sync.Mutex
	calls []string
	ans   func(Request) (Answer, error)
}

func (c *counting) Name() string { return "counting" }

func (c *counting) Ask(ctx context.Context, req Request) (Answer, error) {
	c.mu.Lock()
	c.calls = append(c.calls, req.Path)
	c.mu.Unlock()
	return c.ans(req)
}

func (c *counting) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

func req(p string) Request { return Request{Op: "read", Path: p, Rule: "/ask"} }

func TestAskerCachesPerPath(t *testing.T) {
	h := &counting{ans: func(r Request) (Answer, error) {
		return Answer{Allow: strings.HasSuffix(r.Path, "ok")}, nil
	}}
	a := New(h, Options{})
	for range 3 {
		if !a.Decide(req("/ask/ok")) {
			t.Fatal("/ask/ok denied")
		}
		if a.Decide(req("/ask/no")) {
			t.Fatal("/ask/no allowed")
		}
	}
	if h.n() != 2 {
		t.Fatalf("handler called %d times for 2 paths: %v", h.n(), h.calls)
	}
	// A per-path answer covers nothing below it.
	if a.Decide(req("/ask/ok/below")) {
		t.Fatal("/ask/ok/below allowed by a per-path answer")
	}
	if h.n() != 3 {
		t.Fatalf("handler not asked for /ask/ok/below: %v", h.calls)
	}
	recs := a.Records()
	if len(recs) != 3 || recs[0].Path != "/ask/ok" || recs[0].Answer != "allow" || recs[1].Answer != "deny" || recs[0].Handler != "counting" || recs[0].Cached {
		t.Fatalf("records: %+v", recs)
	}
}

func TestAskerCachesPerPrefix(t *testing.T) {
	h := &counting{ans: func(r Request) (Answer, error) {
		if r.Path == "/ask/dir" {
			return Answer{Allow: true, Scope: ScopePrefix}, nil
		}
		if r.Path == "/ask/wide/x" {
			// A prefix above the rule is narrowed to the rule.
			return Answer{Allow: false, Scope: ScopePrefix, Prefix: "/"}, nil
		}
		return Answer{}, nil
	}}
	a := New(h, Options{})
	if !a.Decide(req("/ask/dir")) || !a.Decide(req("/ask/dir/a/b")) || !a.Decide(req("/ask/dir/a/b")) {
		t.Fatal("prefix allow not applied below /ask/dir")
	}
	if h.n() != 1 {
		t.Fatalf("handler asked again under a prefix answer: %v", h.calls)
	}
	if a.Decide(req("/ask/dirx")) || h.n() != 2 {
		t.Fatalf("/ask/dirx decided by the /ask/dir prefix (calls %v)", h.calls)
	}
	if a.Decide(req("/ask/wide/x")) {
		t.Fatal("allowed")
	}
	// Narrowed to /ask: everything under /ask not yet decided is denied
	// without a call, but /other is asked.
	calls := h.n()
	if a.Decide(req("/ask/other")) || h.n() != calls {
		t.Fatalf("/ask/other not decided by the narrowed prefix: %v", h.calls)
	}
	a.Decide(Request{Op: "read", Path: "/other", Rule: "/other"})
	if h.n() != calls+1 {
		t.Fatalf("/other decided by a prefix of another rule: %v", h.calls)
	}
	// The earlier per-path answer for /ask/dir/a/b is kept over the deny prefix.
	if !a.Decide(req("/ask/dir/a/b")) {
		t.Fatal("a per-path answer lost to a later prefix answer")
	}
	var cached []string
	for _, r := range a.Records() {
		if r.Cached {
			cached = append(cached, r.Path+"="+r.Answer)
		}
	}
	if strings.Join(cached, ",") != "/ask/dir/a/b=allow,/ask/other=deny" {
		t.Fatalf("cached records: %v", cached)
	}
}

func TestAskerTimeoutGivesDefault(t *testing.T) {
	for _, def := range []bool{false, true} {
		release := make(chan struct{})
		h := &counting{ans: func(r Request) (Answer, error) {
			<-release // ignores ctx: a handler that hangs
			return Answer{Allow: !def}, nil
		}}
		a := New(h, Options{Timeout: 20 * time.Millisecond, Default: def})
		if got := a.Decide(req("/ask/slow")); got != def {
			t.Fatalf("default %v: got %v", def, got)
		}
		// The hung call still holds the handler: the next one times out
		// waiting for it, without calling it.
		if got := a.Decide(req("/ask/next")); got != def {
			t.Fatalf("default %v: busy handler gave %v", def, got)
		}
		if h.n() != 1 {
			t.Fatalf("handler called while busy: %v", h.calls)
		}
		// The default is kept for the path: no second wait.
		if got := a.Decide(req("/ask/slow")); got != def || h.n() != 1 {
			t.Fatalf("timed-out path asked again")
		}
		close(release)
		recs := a.Records()
		if len(recs) != 2 || !recs[0].TimedOut || !recs[1].TimedOut || recs[0].Error != "no answer within 20ms" || !strings.Contains(recs[1].Error, "handler busy") || recs[0].Answer != answerName(def) {
			t.Fatalf("records: %+v", recs)
		}
	}
}

func TestAskerGivesUpAfterTimeoutsInARow(t *testing.T) {
	release := make(chan struct{})
	h := &counting{ans: func(r Request) (Answer, error) {
		if strings.HasPrefix(r.Path, "/ask/slow") {
			<-release
		}
		return Answer{Allow: true}, nil
	}}
	a := New(h, Options{Default: false})
	// ask decides p, with a timeout that a slow call always exceeds (it
	// waits for release) and a quick one never does, then waits until the
	// handler is free again.
	ask := func(p string) bool {
		a.timeout = time.Minute
		if strings.HasPrefix(p, "/ask/slow") {
			a.timeout = time.Millisecond
		}
		got := a.Decide(req(p))
		if strings.HasPrefix(p, "/ask/slow") && h.n() > 0 {
			release <- struct{}{}
		}
		a.sem <- struct{}{}
		<-a.sem
		return got
	}
	// One answer in between resets the count.
	if ask("/ask/slow1") || ask("/ask/slow2") {
		t.Fatal("a timed-out question allowed")
	}
	if !ask("/ask/ok") {
		t.Fatal("a timely answer not applied")
	}
	for _, p := range []string{"/ask/slow3", "/ask/slow4", "/ask/slow5"} {
		ask(p)
	}
	calls := h.n()
	if ask("/ask/next") || h.n() != calls {
		t.Fatalf("handler asked after %d timeouts in a row", MaxTimeouts)
	}
	recs := a.Records()
	last := recs[len(recs)-1]
	if last.TimedOut || !strings.Contains(last.Error, "3 questions in a row timed out") {
		t.Fatalf("record %+v", last)
	}
	if calls != 6 {
		t.Fatalf("%d handler calls, want 6", calls)
	}
}

func TestAskerHandlerErrorGivesDefault(t *testing.T) {
	h := &counting{ans: func(r Request) (Answer, error) { return Answer{Allow: true}, errors.New("boom") }}
	a := New(h, Options{})
	if a.Decide(req("/ask/x")) {
		t.Fatal("an error allowed (default is deny)")
	}
	a = New(h, Options{Default: true})
	if !a.Decide(req("/ask/x")) {
		t.Fatal("an error denied (default is allow)")
	}
	r := a.Records()[0]
	if r.Error != "boom" || r.TimedOut || r.Answer != "allow" {
		t.Fatalf("record: %+v", r)
	}
}

func TestAskerNilHandlerDenies(t *testing.T) {
	a := New(nil, Options{Default: true})
	if a.Decide(req("/ask/x")) {
		t.Fatal("nil handler allowed")
	}
}

func TestAskerConcurrentAsksCallOnce(t *testing.T) {
	gate := make(chan struct{})
	h := &counting{ans: func(r Request) (Answer, error) {
		<-gate
		return Answer{Allow: true}, nil
	}}
	a := New(h, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a.Decide(req("/ask/same")) {
				mu.Lock()
				got++
				mu.Unlock()
			}
		}()
	}
	close(gate)
	wg.Wait()
	if got != 8 || h.n() != 1 || len(a.Records()) != 1 {
		t.Fatalf("allowed %d of 8, %d handler calls, records %+v", got, h.n(), a.Records())
	}
}

func TestFixedAndFunc(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		allow bool
	}{{"deny", false}, {"grant", true}} {
		h, err := Parse(tc.spec, Env{})
		if err != nil {
			t.Fatal(err)
		}
		a := New(h, Options{Default: !tc.allow})
		if a.Decide(req("/ask/a")) != tc.allow || a.Decide(req("/ask/b/c")) != tc.allow {
			t.Fatalf("%s: wrong answer", tc.spec)
		}
		recs := a.Records()
		if len(recs) != 2 || recs[0].Handler != tc.spec || recs[0].Cached || !recs[1].Cached {
			t.Fatalf("%s: the whole rule should be answered at once: %+v", tc.spec, recs)
		}
	}
	var seen Request
	f := Func(func(ctx context.Context, r Request) (Answer, error) {
		seen = r
		return Answer{Allow: r.Op == "read"}, nil
	})
	a := New(f, Options{})
	if !a.Decide(Request{Pid: 1, Op: "read", Path: "/ask/r", Rule: "/ask"}) || a.Decide(Request{Op: "write", Path: "/ask/w", Rule: "/ask"}) {
		t.Fatal("callback answer not applied")
	}
	if seen.Path != "/ask/w" || a.Records()[0].Handler != "func" {
		t.Fatalf("callback saw %+v; records %+v", seen, a.Records())
	}
	// pid 1's command line is readable (as init's name): it is filled in.
	if a.Records()[0].Command == "" {
		t.Fatal("command line of pid 1 not filled in")
	}
}

func TestParse(t *testing.T) {
	for spec, name := range map[string]string{
		"deny": "deny", "grant": "grant", "tty": "tty",
		"exec:true": "exec:true", "exec:policy --x": "exec:policy --x",
		"socket:/run/a.sock": "socket:/run/a.sock",
	} {
		h, err := Parse(spec, Env{})
		if err != nil || h.Name() != name {
			t.Errorf("Parse(%q) = %v, %v", spec, h, err)
		}
	}
	for _, bad := range []string{"", "allow", "exec:", "exec", "socket:", "socket", "tty:x", "Deny"} {
		if _, err := Parse(bad, Env{}); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
