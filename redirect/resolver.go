package redirect

import (
	"path"
	"sort"
	"strings"
	"sync"
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
// # The overlay
//
// With a stage (Options.Stage), every redirect rule is an overlay, as
// overlayfs would mount it: the stage (Stage.Root()+g for guest path g) is
// its topmost layer, its lower layers are read-only, and every write lands
// in the stage. A name is looked up in the stage first; if the stage does
// not have it, a whiteout (a mark, see Stage) hides it in every lower
// layer; an opaque staged directory hides the lower ones below it. Reads
// (OpRead, OpExec, OpChdir) are answered from the layer that wins, a
// staged symlink being resolved in guest space like any other. Writes
// follow the design's table:
//
//   - OpWrite on a lower-only name copies it up: its missing parents are
//     made in the stage with the mode and times of the merged view's
//     directories, then the object: a regular file's contents (not with
//     Trunc), mode and times, through .vroot/tmp and a rename so that no
//     half-copied file is ever seen; a directory's mode and times (its
//     lower entries still show through); a symlink's target; a fifo. A
//     device or a socket cannot be made without privileges: EPERM. Opening
//     a directory, a symlink not followed, a fifo or a device for writing
//     copies nothing (the kernel refuses, or no file changes), but an
//     OpCreate open of a directory (O_TMPFILE, or O_CREAT, which fails with
//     EISDIR anyway) is answered with the directory's staged copy.
//   - OpCreate: an existing name fails with EEXIST when Excl; is replaced
//     when Replace (a lower one gets a placeholder in the stage so that the
//     kernel sees what it replaces: see replace); is copied up otherwise
//     (O_CREAT without O_EXCL). A missing name, or one whited out, is
//     created in the stage, its parents made first; Commit clears the
//     whiteout, and a directory created over a lower name becomes opaque.
//   - OpDelete of a staged name runs in the stage, and Commit whites the
//     name out if a lower layer has it too. A lower-only name is checked as
//     the kernel would on the merged tree (EISDIR, ENOTDIR, ENOTEMPTY when a
//     lower entry is still visible), whited out durably, and answered with
//     Skip: no syscall runs.
//   - OpMove of a lower-only non-directory copies it up with its contents;
//     Commit whites the old name out. A lower or merged directory cannot
//     move: EXDEV, as overlayfs says without redirect_dir (mv copies).
//
// ResolveRename and ResolveLink answer the two paths of rename and link in
// the kernel's order of checks (see pair.go). The errnos are those of a
// real overlayfs mount, which the tests use as their oracle.
//
// Listings: opening a merged directory for reading (present in the stage
// and a lower layer, in several lower layers, or with whiteouts below it)
// is answered with a synthesized directory, .vroot/merged/N, holding one
// entry per visible name, of the right type (see union); GuestPath maps it
// back to the guest directory, so that the tracer resolves the *at() calls
// made on it, and getcwd after a fchdir to it, in guest space. Each open
// sees the union as it is then: a listing is reused only while it would be
// the same.
//
// The stage itself is not part of the guest view: a guest path that
// reaches it through any layer (a grant of the directory that holds it,
// say) is ENOENT, its parent's listing does not show it, and GuestPath
// gives no guest name for its files but those of the stage layer and of
// the synthesized listings. Without a stage, the host is read-only under
// redirect rules: writes fail with EROFS (or with the errno the kernel
// gives before EROFS on a read-only mount: EEXIST, ENOENT, EISDIR).
//
// Marks are made durable before the call that acknowledges them returns:
// a whiteout of a lower-only name before Resolve answers Skip, the marks
// of a Commit before Commit returns (see Stage).
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
//   - Without a stage, listings are not merged (there is nowhere to
//     synthesize them): opening a directory gets the topmost layer's. A deny
//     ENOENT name still shows in its parent's listing, and a rule's root
//     shows only if its parent's layers have that name.
//   - A synthesized listing is a snapshot: its d_ino values are not the
//     inode numbers stat gives for the names, and fstat of its fd (if the
//     tracer lets the kernel answer one) gives its own inode, link count
//     and owner (the mode and times are the merged directory's). A device
//     or a socket is listed as a regular file (DT_REG). A superseded
//     listing is removed a minute later (mergedGrace), so a process still
//     reading an old directory fd after that sees it empty.
//   - Copy-up breaks hard links between lower files (as overlayfs does
//     without index=on), does not copy ownership (the stage belongs to
//     vroot's user; --fakeroot records owners) nor xattrs, and cannot copy a
//     device or a socket (EPERM). Parents are made with the lower mode: a
//     lower directory without owner write permission stays unwritable in
//     the stage for a non-root vroot.
//   - RENAME_EXCHANGE and RENAME_WHITEOUT are not handled (see
//     ResolveRename).
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
	// st is the stage, nil when there is none.
	st *Stage

	cache atomic.Pointer[dirCache]

	// unions holds the synthesized listing of each merged directory, by
	// guest path (see union).
	umu    sync.Mutex
	unions map[string]*unionDir

	// built interns the paths answers spell (see build), so that the
	// steady state of a build allocates nothing per request.
	bmu   sync.Mutex
	built map[buildKey]string
}

type buildKey struct {
	dir, name string
	slash     bool
}

// builtMax bounds the intern table; it is cleared when full.
const builtMax = 16384

// build returns dir/name (plus a "/" when slash), shared with earlier
// identical answers. The key keeps the name's string alive, which is the
// request's own path: no copy either way.
func (r *Resolver) build(dir, name string, slash bool) string {
	k := buildKey{dir, name, slash}
	r.bmu.Lock()
	s, ok := r.built[k]
	r.bmu.Unlock()
	if ok {
		return s
	}
	s = build(dir, name, slash)
	r.bmu.Lock()
	if r.built == nil || len(r.built) >= builtMax {
		r.built = make(map[buildKey]string)
	}
	r.built[k] = s
	r.bmu.Unlock()
	return s
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
		st:     opt.Stage,
		kids:   make(map[string]map[string]*filemap.Rule),
		pass:   make(map[string]bool),
		layers: make(map[*filemap.Rule][]string),
		unions: make(map[string]*unionDir),
	}
	r.root = m.Lookup("/")
	r.identity = opt.Stage == nil && opt.Hide == nil
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
// rule.Path, topmost first. A redirect has its lower layers, preceded by the
// stage's mirror of rule.Path when there is a stage (whiteouts, opaque
// directories and writes are the walk's work: see find and write).
func (r *Resolver) layersFor(rule *filemap.Rule) []string {
	switch rule.Action {
	case filemap.Redirect:
		lower := rule.HostPaths()
		if r.st == nil {
			return lower
		}
		ls := make([]string, 0, len(lower)+1)
		ls = append(ls, joinPath(r.st.root, rule.Path))
		return append(ls, lower...)
	case filemap.Grant, filemap.Ask:
		// An ask that was allowed behaves as a grant.
		return []string{rule.Path}
	}
	return nil
}

// Invalidate drops every cached resolution (see Resolver). The tracer calls
// it after each successful mutation of the tree a tracee makes (unlink,
// rmdir, rename (both names), symlink, mkdir, link, mknod, creat) outside
// the overlay (Commit does it for the overlay's answers), and the overlay
// after each change it makes itself (copy-up, whiteout); guest is the
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
