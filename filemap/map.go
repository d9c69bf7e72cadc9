package filemap

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"syscall"
)

// Map is a compiled, immutable set of rules. Lookup is safe to call from
// several goroutines at once.
type Map struct {
	root  node
	rules []Rule // effective rules, in Rules order; the trie points into it
}

// node is one guest path component in the trie. Lookup walks the path's
// components from the root and keeps the deepest rule it passes, so its cost
// grows with the depth of the path, not with the number of rules.
type node struct {
	rule *Rule
	kids map[string]*node
}

// New validates rules and compiles them. Rules are copied; the caller may
// reuse the slice. When two rules have the same Path the later one wins, so
// that command-line flags appended after a profile override it.
//
// A rule Path (and each To entry) must be absolute and clean; a trailing "/"
// is accepted and dropped. To is only allowed on Redirect rules. A Deny
// rule's zero Errno becomes EACCES; other errnos than EACCES, ENOENT and EPERM
// are refused, and non-deny rules must leave Errno zero.
func New(rules []Rule) (*Map, error) {
	byPath := make(map[string]int, len(rules))
	eff := make([]Rule, 0, len(rules))
	for i := range rules {
		r, err := checkRule(rules[i])
		if err != nil {
			return nil, fmt.Errorf("filemap: rule %d %s: %w", i+1, describe(&rules[i]), err)
		}
		if j, dup := byPath[r.Path]; dup {
			eff[j] = r
			continue
		}
		byPath[r.Path] = len(eff)
		eff = append(eff, r)
	}
	sort.Slice(eff, func(i, j int) bool {
		di, dj := depth(eff[i].Path), depth(eff[j].Path)
		if di != dj {
			return di > dj
		}
		return eff[i].Path < eff[j].Path
	})
	m := &Map{rules: eff}
	for i := range m.rules {
		r := &m.rules[i]
		n := &m.root
		for c := range components(r.Path) {
			k := n.kids[c]
			if k == nil {
				if n.kids == nil {
					n.kids = make(map[string]*node)
				}
				k = &node{}
				n.kids[c] = k
			}
			n = k
		}
		n.rule = r
	}
	return m, nil
}

// describe names a rule in New's errors: by its source when it has one,
// since that is what the user can go and fix.
func describe(r *Rule) string {
	if r.Source != "" {
		return fmt.Sprintf("%q (%s)", r.Path, r.Source)
	}
	return fmt.Sprintf("%q", r.Path)
}

// checkRule returns r normalised (trailing slashes dropped, To and Errno
// defaulted, To copied so the Map does not share the caller's array).
func checkRule(r Rule) (Rule, error) {
	p, err := normPath(r.Path)
	if err != nil {
		return r, fmt.Errorf("path: %w", err)
	}
	r.Path = p
	switch r.Action {
	case Redirect, Grant, Ask, Deny:
	default:
		return r, fmt.Errorf("unknown action %d", r.Action)
	}
	if len(r.To) > 0 {
		if r.Action != Redirect {
			return r, fmt.Errorf("to is only for redirect rules, not %s", r.Action)
		}
		to := make([]string, len(r.To))
		for i, t := range r.To {
			if to[i], err = normPath(t); err != nil {
				return r, fmt.Errorf("to[%d]: %w", i, err)
			}
		}
		r.To = to
	} else {
		// A non-nil empty To would read as "no lower layers" to a careless
		// caller; it means the same as nil, so make it nil.
		r.To = nil
	}
	if r.Action == Deny {
		if r.Errno == 0 {
			r.Errno = syscall.EACCES
		}
		switch r.Errno {
		case syscall.EACCES, syscall.ENOENT, syscall.EPERM:
		default:
			return r, fmt.Errorf("errno %d (%v) not allowed (want EACCES, ENOENT or EPERM)", int(r.Errno), r.Errno)
		}
	} else if r.Errno != 0 {
		return r, fmt.Errorf("errno is only for deny rules, not %s", r.Action)
	}
	return r, nil
}

// normPath accepts an absolute clean path with optional trailing slashes,
// and returns it without them. It refuses to clean anything else: a rule
// written "/usr/../etc" is more likely a mistake than a wish for "/etc".
func normPath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty")
	}
	if p[0] != '/' {
		return "", fmt.Errorf("%q is not absolute", p)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("%q contains a NUL byte", p)
	}
	t := strings.TrimRight(p, "/")
	if t == "" {
		t = "/"
	}
	if c := path.Clean(t); c != t {
		return "", fmt.Errorf("%q is not clean (want %q)", p, c)
	}
	return t, nil
}

// components yields the non-empty components of p. Empty ones (from a
// trailing or doubled slash) are skipped, so "/usr/" and "/usr" are one.
func components(p string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for len(p) > 0 {
			var c string
			if i := strings.IndexByte(p, '/'); i >= 0 {
				c, p = p[:i], p[i+1:]
			} else {
				c, p = p, ""
			}
			if c != "" && !yield(c) {
				return
			}
		}
	}
}

func depth(p string) int {
	n := 0
	for range components(p) {
		n++
	}
	return n
}

// Lookup returns the rule whose Path is the longest component-wise prefix
// of path ("/usr" covers "/usr" and "/usr/lib", never "/usrx"), or nil if
// none is. path must be an absolute guest path; a trailing slash is ignored.
// It is not cleaned: "." and ".." are taken as plain names, so callers must
// canonicalise first. A relative path matches nothing. The returned rule
// belongs to the Map and must not be modified.
func (m *Map) Lookup(path string) *Rule {
	if m == nil || len(path) == 0 || path[0] != '/' {
		return nil
	}
	n := &m.root
	best := n.rule
	// Hand-rolled rather than components(): this is the tracer's hot path
	// and must not allocate or call through closures.
	for i := 1; i < len(path); {
		j := strings.IndexByte(path[i:], '/')
		var c string
		if j < 0 {
			c, i = path[i:], len(path)
		} else {
			c, i = path[i:i+j], i+j+1
		}
		if c == "" {
			continue
		}
		if n = n.kids[c]; n == nil {
			break
		}
		if n.rule != nil {
			best = n.rule
		}
	}
	return best
}

// Rules returns a copy of the effective rules (for each Path, the last rule
// given), longest prefix first: deeper paths before shallower ones, then
// lexically. That is the order a reader checks them in, and the order a
// linear matcher would need.
func (m *Map) Rules() []Rule {
	if m == nil {
		return nil
	}
	out := make([]Rule, len(m.rules))
	copy(out, m.rules)
	return out
}
