package filemap

import (
	"time"

	"github.com/vroot-dev/vroot/ask"
)

// AskSettings are a profile's ask_with, ask_timeout and ask_default: who
// answers ask rules, how long it may take, and the answer when it fails.
// The command-line flags of the same names override them.
type AskSettings struct {
	With    string        // a handler spec (ask.Parse); "" unset
	Timeout time.Duration // 0 unset
	Default string        // "allow", "deny"; "" unset
	// From says which file set With, for messages.
	From string
}

// Merge lets the settings of a later file win, key by key.
func (a *AskSettings) Merge(b AskSettings) {
	if b.With != "" {
		a.With, a.From = b.With, b.From
	}
	if b.Timeout != 0 {
		a.Timeout = b.Timeout
	}
	if b.Default != "" {
		a.Default = b.Default
	}
}

func (p *parser) askKeys(doc map[string]any, f *file) error {
	var line int
	str := func(key, want string) (string, bool, error) {
		v, ok := doc[key]
		if !ok {
			return "", false, nil
		}
		line = p.loc.topLine(key)
		s, ok := v.(string)
		if !ok {
			return "", true, p.errAt(line, "%s must be a string (%s), not %s", key, want, typeName(v))
		}
		return s, true, nil
	}
	s, set, err := str("ask_with", ask.Kinds)
	if err != nil {
		return err
	}
	if set {
		if _, err := ask.Parse(s, ask.Env{}); err != nil {
			return p.errAt(line, "ask_with: %v", err)
		}
		f.ask.With, f.ask.From = s, p.name
	}
	s, set, err = str("ask_timeout", `a duration such as "30s"`)
	if err != nil {
		return err
	}
	if set {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return p.errAt(line, `ask_timeout %q: want a positive duration such as "30s" or "500ms"`, s)
		}
		f.ask.Timeout = d
	}
	s, set, err = str("ask_default", "allow or deny")
	if err != nil {
		return err
	}
	if set {
		if s != "allow" && s != "deny" {
			return p.errAt(line, "ask_default %q: want allow or deny", s)
		}
		f.ask.Default = s
	}
	return nil
}
