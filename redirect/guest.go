package redirect

import (
	"strings"

	"github.com/vroot-dev/vroot/filemap"
)

// GuestPath maps a host path the kernel handed back (getcwd, readlink of
// /proc/PID/{cwd,exe,fd/N}) to the guest path that reaches it. A host path
// under a layer L of a rule with prefix P maps to P + the rest; when several
// layers hold it, the longest (most specific) layer wins, so a directory of
// an SDK shows as the guest directory it stands for, not as the SDK's own
// path. A candidate counts only if its guest path really has that rule (a
// more specific rule may hide it), or if it is a deny path kept traversable
// (see Resolver). Grants and identity redirects map a path to itself; a path
// no rule covers is itself. A "PATH (deleted)" keeps its suffix.
//
// ok=false means the guest view has no name for host (a path hidden by a
// more specific rule, under a deny rule, or under a redirect's layer only
// reachable through another rule): the tracer then shows the host path as
// it is, the best it can do for a getcwd or readlink answer.
//
// With a stage, a path under STAGE/root maps through the stage layers of
// redirect rules, a synthesized listing (STAGE/.vroot/merged/N, and below
// it) maps to the merged guest directory it lists, and nothing else under
// the stage has a guest name.
//
// GuestPath does no I/O: it does not check that host exists, nor that its
// layer is the one that wins for that guest path (a file shadowed by a
// higher layer still maps to its guest name).
func (r *Resolver) GuestPath(host string) (string, bool) {
	if host == "" || host[0] != '/' {
		return "", false
	}
	if s, ok := strings.CutSuffix(host, " (deleted)"); ok && s != "" {
		g, ok := r.GuestPath(s)
		if !ok {
			return "", false
		}
		return g + " (deleted)", true
	}
	// The stage is invisible: only its root, through the stage layers of
	// redirect rules, and its synthesized listings have guest names.
	inStage := false
	if s := r.st; s != nil {
		if g, ok, merged := s.mergedPath(host); merged {
			return g, ok
		}
		if _, in := under(host, s.dir); in {
			if _, ok := under(host, s.root); !ok {
				return "", false
			}
			inStage = true
		}
	}
	for _, v := range r.rev {
		rest, ok := under(host, v.host)
		if !ok {
			continue
		}
		if inStage {
			if _, ok := under(v.host, r.st.root); !ok {
				continue
			}
		}
		g := v.rule.Path
		switch {
		case rest == "":
		case g == "/":
			g = rest
		default:
			// Interned: the tracer maps the host path of every dirfd back.
			g = r.build(g, rest[1:], false)
		}
		got := r.m.Lookup(g)
		if got == v.rule || got != nil && (got.Action == filemap.Deny || got.Action == filemap.Ask) && r.pass[g] {
			return g, true
		}
	}
	if !inStage && r.m.Lookup(host) == nil {
		return host, true
	}
	return "", false
}
