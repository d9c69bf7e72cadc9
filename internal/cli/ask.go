package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vroot-dev/vroot"
	"github.com/vroot-dev/vroot/ask"
	"github.com/vroot-dev/vroot/filemap"
)

// askConf is what --ask-with, --ask-timeout and --ask-default say.
type askConf struct {
	spec    string // "" until the default is chosen (see handler)
	timeout time.Duration
	allow   bool
}

// askConfig validates the ask flags; it reads nothing. from holds what the
// profiles say (ask_with, ask_timeout, ask_default); each flag given
// overrides its key.
func (o *options) askConfig(from filemap.AskSettings) (askConf, error) {
	c := askConf{spec: from.With, timeout: from.Timeout, allow: from.Default == "allow"}
	if o.askWith != "" || o.given["ask-with"] {
		if _, err := ask.Parse(o.askWith, ask.Env{}); err != nil {
			return c, fmt.Errorf("--ask-with: %v", err)
		}
		c.spec = o.askWith
	}
	if o.askTimeout != "" {
		d, err := time.ParseDuration(o.askTimeout)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("--ask-timeout %q: want a positive duration such as 30s or 500ms", o.askTimeout)
		}
		c.timeout = d
	}
	switch o.askDefault {
	case "":
	case "deny":
		c.allow = false
	case "allow":
		c.allow = true
	default:
		return c, fmt.Errorf("--ask-default %q: want allow or deny", o.askDefault)
	}
	return c, nil
}

// hasAsk reports whether m has an ask rule.
func hasAsk(m *filemap.Map) bool {
	for _, r := range m.Rules() {
		if r.Action == filemap.Ask {
			return true
		}
	}
	return false
}

// print writes the ask settings a run would use, for check.
func (c askConf) print(w io.Writer) error {
	spec := c.spec
	if spec == "" {
		spec = "tty if vroot has a terminal, else deny"
	}
	timeout, def := c.timeout, "deny"
	if timeout == 0 {
		timeout = ask.DefaultTimeout
	}
	if c.allow {
		def = "allow"
	}
	_, err := fmt.Fprintf(w, "ask: %s; timeout %s, then %s\n", spec, timeout, def)
	return err
}

// handler makes the ask handler of a run whose filemap is m: none without
// ask rules; without --ask-with, a prompt on the controlling terminal if
// vroot has one, else deny (a build in CI must not hang on a question
// nobody sees).
func (c askConf) handler(m *filemap.Map, stderr io.Writer) (ask.Handler, error) {
	if !hasAsk(m) {
		return nil, nil
	}
	spec := c.spec
	if spec == "" {
		spec = "deny"
		if f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
			f.Close()
			spec = "tty"
		}
	}
	return ask.Parse(spec, ask.Env{Stderr: stderr})
}

// printAsks lists the asks that were denied or whose handler failed: what a
// user needs to understand a build that could not read something, or a
// handler that is not answering.
func printAsks(w io.Writer, rs []vroot.AskRecord) {
	for _, r := range rs {
		if r.Answer == "allow" && r.Error == "" {
			continue
		}
		how := "handler " + r.Handler
		if r.Cached {
			how += ", earlier answer"
		}
		if r.Error != "" {
			how += ", failed: " + r.Error + "; default " + r.Answer
		}
		fmt.Fprintf(w, "vroot: ask: %s %s %s (pid %d, %s)\n", r.Answer, r.Op, r.Path, r.Pid, how)
	}
}
