package redirect

import (
	"path"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/vroot-dev/vroot/filemap"
)

// Resolver answers Requests against a filemap: it is the guest view.
//
// # The guest view
//
// Every guest path has the rule m.Lookup gives it. A grant serves the same
// path on the host. A redirect serves the first of its layers (see layersFor)
// that has the entry, where a layer L stands for the rule's Path: the host
// path of guest g is L + g[len(rule.Path):]. Directories present in several
// layers are merged as overlayfs merges them: the names of a directory are
// looked up in every layer where that directory is a directory, topmost
// first, down to the first layer where it is something else. A rule's own
// Path is looked up (lstat) in the rule's layers like any other name, so a
// layer root that is a symlink is a symlink in the guest; the rule for "/" is
// the exception (a root cannot be a symlink), its layers are stat'ed. A rule
// is reachable only through its parent directory, like a mount point: --map
// /opt/sdk=/x shows nothing if the guest has no /opt.
//
// Deny rules: every path under one, walked through or named, fails with the
// rule's errno; a deny ENOENT is a hidden tree, so the only case where that
// would not be ENOENT is creating the hidden name itself, which a real tree
// would allow and vroot refuses with EACCES (the design's "writes refused").
// A deny (or ask) path that is a proper ancestor of a grant, redirect or ask
// rule (deny /home, grant /home/me/.cache) stays traversable, and readable
// as the directory the rule above it serves (stat, readlink, chdir, open for
// reading: so that realpath works on the way down), but not writable, and
// its other children stay denied. An ask that the handler allows is served
// like a grant. Paths that no rule covers (no rule for "/") are served as they
// are on the host.
//
// # Caching
//
// Resolve caches directories, never the last component: a guest directory
// path, exactly as spelled in requests (the part before the last "/"), and
// every canonical directory met on the way, maps to the canonical guest
// directory, its rule, its merged layer stack and the number of symlinks
// the walk of that spelling follows (so that ELOOP stays exact when a walk
// reuses it). The common request costs one map lookup under a read lock for
// its directory, then for its last name one lstat per layer until one has
// it, and a readlink if it is a symlink to follow. There is no lstat at all
// when the name is not followed (lstat, readlink, unlink, ...) in a
// directory that has one layer and no rule starting at that name, since the
// answer cannot depend on what the name is, nor in identity mode (see
// Resolve). Directories met through /proc (pid-dependent: /proc/self, magic
// links) are never cached. Errors are never cached.
//
// Invalidation: any Invalidate drops the whole cache (a new generation). A
// mutation can change a cached resolution through paths that do not share a
// prefix with it (a symlink walked through, a new upper-layer directory
// changing a merged stack, two rules whose layers overlap on the host), and
// dropping everything is the rule that is obviously right; a walk that
// started before the Invalidate stores its result into the dropped
// generation, so a resolution computed from the old tree can never outlive
// the Invalidate. The price is a re-walk of the directories in use after each
// mutation: one lstat per component.
//
// Concurrency: a Resolver is safe for concurrent use. Its configuration is
// immutable after New; the cache is a map behind a sync.RWMutex (reads take
// the read lock only), swapped atomically by Invalidate; cached entries are
// immutable once published.
//
// # Limits
//
//   - Host paths are strings: when a layer's prefix (or a long canonical path
//     reached through symlinks) makes a host path PATH_MAX bytes or longer,
//     the guest gets ENAMETOOLONG where the merged tree would not fail.
//   - Search permission is checked on the directory of the layer being
//     looked in, so a name found only in a lower layer is out of reach if
//     that layer's directory is not searchable; overlayfs checks only the
//     topmost one. Checks run with the tracer's credentials, which are the
//     tracee's (same user; no_new_privs rules out setuid).
//   - A rule is reachable only if its parent exists in the guest view (as
//     a mount point must): --map /opt/sdk=/x needs a guest /opt. Rules apply
//     to canonical guest paths, so a rule below a guest symlink (/lib/x when
//     /lib -> usr/lib) never applies.
//   - Listings are not merged: opening a directory gets the topmost layer's
//     (merged readdir, whiteouts and copy-up are the stage's work), and a
//     deny ENOENT name still shows in its parent's listing.
//   - Mutations by processes vroot does not trace are not seen until the next
//     Invalidate.
type Resolver struct {
	m   *filemap.Map
	opt Options

	root *filemap.Rule // rule of "/", nil when none
	// kids[dir][name] is the rule whose Path is exactly dir/name: the only
	// way a child's rule can differ from its parent's under longest-prefix
	// matching, so a walk needs no Lookup per component.
	kids map[string]map[string]*filemap.Rule
	// pass holds the proper ancestors of every grant, redirect and ask rule:
	// where they fall under a deny or ask rule, they stay traversable.
	pass map[string]bool
	// layers holds each rule's host layers, topmost first.
	layers map[*filemap.Rule][]string
	// rev is GuestPath's table: layer host path -> rule, most specific first.
	rev []revEntry
	// identity: every guest path is served at the same host path (grants and
	// redirects to themselves only, no deny, no ask, no stage), so the kernel
	// may resolve the last component itself.
	identity bool

	cache atomic.Pointer[dirCache]
}

type revEntry struct {
	host string
	rule *filemap.Rule
}

// New builds a Resolver over m (nil: no rules, every path is served as is).
func New(m *filemap.Map, opt Options) *Resolver {
	r := &Resolver{
		m:      m,
		opt:    opt,
		kids:   make(map[string]map[string]*filemap.Rule),
		pass:   make(map[string]bool),
		layers: make(map[*filemap.Rule][]string),
	}
	r.root = m.Lookup("/")
	r.identity = opt.Stage == ""
	for _, copyRule := range m.Rules() {
		// Rules returns copies; Answer.Rule must be the Map's own pointer,
		// the one Lookup hands out.
		rule := m.Lookup(copyRule.Path)
		if rule == nil || rule.Path != copyRule.Path {
			continue
		}
		ls := r.layersFor(rule)
		r.layers[rule] = ls
		switch rule.Action {
		case filemap.Deny, filemap.Ask:
			r.identity = false
		default:
			if len(ls) != 1 || ls[0] != rule.Path {
				r.identity = false
			}
		}
		if rule.Action != filemap.Deny {
			for _, l := range ls {
				r.rev = append(r.rev, revEntry{host: l, rule: rule})
			}
			for p := rule.Path; p != "/"; {
				p = path.Dir(p)
				r.pass[p] = true
			}
		}
		if rule.Path != "/" {
			dir, name := path.Split(rule.Path)
			dir = trimSlashes(dir)
			if r.kids[dir] == nil {
				r.kids[dir] = make(map[string]*filemap.Rule)
			}
			r.kids[dir][name] = rule
		}
	}
	sort.Slice(r.rev, func(i, j int) bool {
		a, b := r.rev[i], r.rev[j]
		if len(a.host) != len(b.host) {
			return len(a.host) > len(b.host)
		}
		if len(a.rule.Path) != len(b.rule.Path) {
			return len(a.rule.Path) > len(b.rule.Path)
		}
		return a.rule.Path < b.rule.Path
	})
	r.cache.Store(newDirCache())
	return r
}

// layersFor is the seam of the overlay: the host directories that stand for
// rule.Path, topmost first. Today a redirect has its lower layers, preceded by
// the stage's mirror of rule.Path when there is a stage.
//
// TODO(stage): whiteouts (a staged deletion must hide the lower layers'
// entry), and sending creates and writes to the stage with copy-up.
func (r *Resolver) layersFor(rule *filemap.Rule) []string {
	switch rule.Action {
	case filemap.Redirect:
		lower := rule.HostPaths()
		if r.opt.Stage == "" {
			return lower
		}
		ls := make([]string, 0, len(lower)+1)
		ls = append(ls, joinPath(path.Join(r.opt.Stage, "root"), rule.Path))
		return append(ls, lower...)
	case filemap.Grant, filemap.Ask:
		// An ask that was allowed behaves as a grant.
		return []string{rule.Path}
	}
	return nil
}

// Invalidate drops every cached resolution (see Resolver). The tracer calls
// it after each successful mutation of the tree a tracee makes (unlink,
// rmdir, rename (both names), symlink, mkdir, link, mknod, creat), and the
// stage after each change it makes itself (copy-up, whiteout); guest is the
// canonical guest path (Answer.Guest) of the name that changed. It is not
// needed after writes that only change a file's contents or attributes.
func (r *Resolver) Invalidate(guest string) {
	r.cache.Store(newDirCache())
}

// joinPath joins a clean absolute directory and a clean absolute guest path
// below "/": joinPath("/sdk", "/usr") = "/sdk/usr", joinPath("/", "/usr") =
// "/usr", joinPath("/sdk", "/") = "/sdk".
func joinPath(dir, p string) string {
	switch {
	case p == "/":
		return dir
	case dir == "/":
		return p
	}
	return dir + p
}

// join appends one name to a clean absolute directory.
func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// parentOf is the lexical parent of a canonical path: ".." in guest space,
// which never climbs above "/".
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// trimSlashes drops trailing slashes, keeping "/" for a path made of them.
func trimSlashes(p string) string {
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	if p == "" {
		return "/"
	}
	return p
}

// splitLast splits an absolute path into its directory, without trailing
// slashes ("/" for the root), and its last name ("" when p names the root).
// Trailing slashes of p are ignored; the caller keeps their meaning.
func splitLast(p string) (dir, name string) {
	q := p
	for len(q) > 0 && q[len(q)-1] == '/' {
		q = q[:len(q)-1]
	}
	if q == "" {
		return "/", ""
	}
	i := strings.LastIndexByte(q, '/')
	return trimSlashes(q[:i+1]), q[i+1:]
}

// under reports whether p is root or below it, component-wise, and returns
// the rest of p ("" or "/...").
func under(p, root string) (string, bool) {
	if root == "/" {
		if p == "/" {
			return "", true
		}
		return p, true
	}
	if !strings.HasPrefix(p, root) {
		return "", false
	}
	rest := p[len(root):]
	if rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}
