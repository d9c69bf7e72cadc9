package redirect

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/vroot-dev/vroot/filemap"
)

// walker is the state of one Resolve: it lives on Resolve's stack.
type walker struct {
	r    *Resolver
	c    *dirCache // the generation this walk reads and fills
	req  Request
	path string // req.Path, made absolute
	// volatile: the walk touched /proc, whose answers depend on the process
	// and on time; nothing it computes from then on is cached.
	volatile bool
	// denied is the deny or ask rule that refused, for Answer.Rule.
	denied *filemap.Rule
	// dry: stop before a write under the overlay, and capture it in fin.
	dry bool
	fin final
}

// final is the last component of a dry walk that writes under the overlay:
// the name in d, or the directory dir itself (OpWrite on ".", "..", "/").
type final struct {
	ok    bool
	d     *dirEntry
	name  string
	c     child
	dir   *dirEntry
	slash bool
}

// Resolve canonicalises req.Path in guest space, one component at a time as
// the kernel would on the merged tree, and answers the host path to give the
// kernel, or the errno the guest must see.
//
// The answer keeps what the kernel must still decide: a last component that
// does not exist is answered with the host path where it would be (the
// kernel then fails with ENOENT, or creates it); a trailing "/" is kept on
// Host; for OpCreate and OpDelete a last component "." or ".." or the root
// is answered with a host path that ends the same way, so that the kernel
// gives each syscall its own errno (EEXIST, EISDIR, EINVAL, ENOTEMPTY,
// EBUSY). Outside the overlay, a missing name is placed in the topmost layer
// that has its parent directory, so that a create succeeds where the merged
// tree has the parent. Under a redirect rule, writes are the overlay's (see
// Resolver): with a stage they land there, and the answer may carry Skip
// and After (the tracer then calls Commit); without one they fail with
// EROFS.
//
// Relative paths are taken from "/" (the tracer joins them to the guest cwd
// or dirfd before asking).
//
// Identity fast path: when every rule serves a guest path at the same host
// path (see Resolver), the kernel resolves any path exactly as the guest view
// would (and the tracee's /proc/self is itself), so Host is the request's
// own string, which the tracer need not rewrite, and the last component is
// not looked up at all. Only the directory is resolved (from the cache), for
// Answer.Guest, whose last component is then named as requested, not
// followed. OpChdir is the exception: resolved fully, since the tracer keeps
// its Guest as the cwd and its Host as the host cwd.
//
// Answer.Guest is the canonical guest path of what the request names: the
// symlink itself when the last component is not followed. It is empty when
// a /proc magic link led outside the guest view (the kernel resolves those
// as they are).
func (r *Resolver) Resolve(req Request) Answer {
	var w walker // on the stack: the hot path allocates nothing for it
	a, ok := r.walk(&w, req, false)
	if !ok {
		return a
	}
	return w.finish(a)
}

// walk runs a Resolve in w; with dry, a write under the overlay stops
// before it changes anything, its last component captured in w.fin (see
// ResolveRename). ok=false means a is the answer already.
func (r *Resolver) walk(w *walker, req Request, dry bool) (a Answer, ok bool) {
	p := req.Path
	if n := req.ArgLen; n >= pathMax || n == 0 && len(p) >= pathMax {
		return Answer{Errno: syscall.ENAMETOOLONG}, false
	}
	if p == "" {
		return Answer{Errno: syscall.ENOENT}, false
	}
	if p[0] != '/' {
		p = "/" + p
	}
	*w = walker{r: r, c: r.cache.Load(), req: req, path: p, dry: dry}
	return w.resolve(p), true
}

// finish is the last touch of Resolve's answer.
func (w *walker) finish(a Answer) Answer {
	if w.r.identity && w.req.Op != OpChdir && a.Errno == 0 && a.Guest != "" {
		a.Host = w.path
	}
	return a
}

func (w *walker) resolve(p string) Answer {
	op := w.req.Op
	nameOp := op == OpCreate || op == OpDelete || op == OpMove
	trailing := p[len(p)-1] == '/'
	follow := w.req.Follow
	if trailing {
		// A trailing slash makes the kernel follow the last component and
		// require a directory, except in the syscalls that act on the name
		// itself (mkdir, unlink, rmdir, rename, ...; open O_CREAT fails with
		// EISDIR): there the kernel decides from the unfollowed name.
		follow = !nameOp
	}
	mustDir := trailing
	dirKey, name := splitLast(p)
	links := 0
	for {
		d, n, errno := w.lookupDir(dirKey, links)
		if errno != 0 {
			return w.fail(errno)
		}
		if n > 0 && w.req.NoSymlinks {
			return w.fail(syscall.ELOOP)
		}
		links += n
		if d.native {
			return w.answer(d.hosts[0], name, mustDir && name != "", "", "", nil)
		}
		switch name {
		case "":
			if nameOp {
				return w.answer("/", "", false, "/", "", d.rule)
			}
			if a, ok := w.self(d, false); ok {
				return a
			}
			return w.answer(d.hosts[0], "", false, "/", "", d.rule)
		case ".", "..":
			if errno := w.searchable(d); errno != 0 {
				return w.fail(errno)
			}
			t := d
			if name == ".." {
				if t, _, errno = w.lookupDir(parentOf(d.guest), links); errno != 0 {
					return w.fail(errno)
				}
			}
			if nameOp {
				return w.answer(d.hosts[0], name, mustDir, t.guest, "", t.rule)
			}
			if a, ok := w.self(t, mustDir); ok {
				return a
			}
			return w.answer(t.hosts[0], "", mustDir, t.guest, "", t.rule)
		}
		writes := op >= OpWrite
		if w.r.identity && op != OpChdir {
			rule := d.rule
			if kr, ok := d.kids[name]; ok {
				rule = kr
			}
			if !writes || !isRedirect(rule) {
				return Answer{Host: p, Guest: w.guest(d.guest, name, ""), Rule: rule}
			}
		}
		if !follow && len(d.hosts) == 1 && w.r.st == nil && w.r.opt.Hide == nil && plain(d.rule) && !(writes && isRedirect(d.rule)) {
			if _, kid := d.kids[name]; !kid {
				// One layer, nothing to follow: whatever the name is there,
				// even missing, the answer is that layer's path for it and
				// the kernel acts on the name itself, as the guest view
				// would. (With a stage, a whiteout may hide the name.)
				return w.answer(d.hosts[0], name, mustDir, d.guest, name, d.rule)
			}
		}
		c, _, errno := w.find(d, name, true, false)
		if errno != 0 {
			return w.fail(errno)
		}
		if w.r.opt.Hide != nil && !writes && (c.kind == kOther || c.kind == kLink) && isRedirect(c.rule) &&
			c.name == name && c.pfx[c.layer] == d.guest {
			if errno := w.r.opt.Hide(d.guest, name); errno != 0 {
				return Answer{Errno: errno, Guest: join(d.guest, name), Rule: c.rule, Hidden: true}
			}
		}
		if c.kind != kLink || !follow {
			if writes && isRedirect(c.rule) && !c.pass {
				if w.dry && w.r.st != nil {
					w.fin = final{ok: true, d: d, name: name, c: c, slash: mustDir}
					return Answer{}
				}
				return w.write(d, name, &c, mustDir)
			}
			if c.kind == kDir && w.listing() {
				e, _, errno := w.lookupDir(join(d.guest, name), links)
				if errno != 0 {
					return w.fail(errno)
				}
				if a, ok := w.self(e, mustDir); ok {
					return a
				}
			}
			a := w.answer(c.pfx[c.layer], c.name, mustDir, d.guest, name, c.rule)
			if c.kind == kOther && c.mode&syscall.S_IFMT == syscall.S_IFREG && !mustDir &&
				isRedirect(c.rule) && !c.pass && !w.volatile && (!c.ov || c.layer > 0) {
				a.Layer = w.r.lowerLayer(c.rule, a.Guest, a.Host)
			}
			return a
		}
		if links >= maxSymlinks || w.req.NoSymlinks {
			return w.fail(syscall.ELOOP)
		}
		links++
		tgt, magic, errno := w.readLink(&c)
		if errno != 0 {
			return w.fail(errno)
		}
		if magic && w.req.NoMagicLinks {
			return w.fail(syscall.ELOOP)
		}
		if magic {
			g, how := w.r.magicTarget(tgt)
			if how != magicMapped {
				// Not a path, a deleted file, or outside the guest view:
				// the kernel follows the magic link to the object itself.
				return w.answer(c.pfx[c.layer], c.name, mustDir, d.guest, name, c.rule)
			}
			tgt = g
		}
		if tgt == "" {
			return w.fail(syscall.ENOENT)
		}
		if tgt[len(tgt)-1] == '/' {
			mustDir = true
		}
		if tgt[0] != '/' {
			tgt = join(d.guest, tgt)
		}
		dirKey, name = splitLast(tgt)
	}
}

func (w *walker) fail(errno syscall.Errno) Answer {
	return Answer{Errno: errno, Rule: w.denied}
}

// answer builds the Answer for host hdir/hname and guest gdir/gname (either
// name may be empty), reusing the request's own string where it already
// spells one of them: the common identity request then allocates nothing.
func (w *walker) answer(hdir, hname string, slash bool, gdir, gname string, rule *filemap.Rule) Answer {
	p := w.path
	var host string
	if spells(p, hdir, hname, slash) {
		host = p
	} else {
		host = w.r.build(hdir, hname, slash)
	}
	var guest string
	if gdir != "" {
		guest = w.guest(gdir, gname, strings.TrimSuffix(host, "/"))
	}
	return Answer{Host: host, Guest: guest, Rule: rule}
}

// guest is gdir/gname, reusing the request's string, or host, when one of
// them spells it.
func (w *walker) guest(gdir, gname, host string) string {
	switch bare := strings.TrimRight(w.path, "/"); {
	case spells(bare, gdir, gname, false):
		return bare
	case spells(w.path, gdir, gname, false):
		return w.path
	case host != "" && spells(host, gdir, gname, false):
		return host
	}
	return w.r.build(gdir, gname, false)
}

// spells reports whether s == dir/name, plus a "/" when slash.
func spells(s, dir, name string, slash bool) bool {
	n, sep := pathLen(dir, name, slash)
	if len(s) != n || !strings.HasPrefix(s, dir) {
		return false
	}
	i := len(dir)
	if sep {
		if s[i] != '/' {
			return false
		}
		i++
	}
	if s[i:i+len(name)] != name {
		return false
	}
	return !slash || dir == "/" && name == "" || s[n-1] == '/'
}

func pathLen(dir, name string, slash bool) (n int, sep bool) {
	n = len(dir)
	if name != "" {
		sep = dir != "/"
		if sep {
			n++
		}
		n += len(name)
	}
	if slash && (dir != "/" || name != "") {
		n++
	}
	return n, sep
}

func build(dir, name string, slash bool) string {
	n, sep := pathLen(dir, name, slash)
	var b strings.Builder
	b.Grow(n)
	b.WriteString(dir)
	if sep {
		b.WriteByte('/')
	}
	b.WriteString(name)
	if b.Len() < n {
		b.WriteByte('/')
	}
	return b.String()
}

// hostJoin is a layer path and a name, or the layer path alone.
func hostJoin(dir, name string) string {
	if name == "" {
		return dir
	}
	return join(dir, name)
}

// lookupDir resolves key (an absolute guest path without trailing slashes)
// as the directory a walk enters: every component followed, the last one
// required to be a directory. It returns the directory and the number of
// symlinks the walk of key follows; base is the number the enclosing walk
// has already followed, for ELOOP.
func (w *walker) lookupDir(key string, base int) (*dirEntry, int, syscall.Errno) {
	if v, ok := w.c.get(key); ok {
		if base+v.links > maxSymlinks {
			return nil, 0, syscall.ELOOP
		}
		return v.e, v.links, 0
	}
	if key == "/" {
		e, errno := w.rootEntry()
		if errno != 0 {
			return nil, 0, errno
		}
		w.put(key, e, 0)
		return e, 0, 0
	}
	pk, name := splitLast(key)
	pe, pn, errno := w.lookupDir(pk, base)
	if errno != 0 {
		return nil, 0, errno
	}
	e, n, errno := w.stepDir(pe, name, base+pn)
	if errno != 0 {
		return nil, 0, errno
	}
	if pe.native || !spells(key, pe.guest, name, false) {
		// stepDir already stored the canonical spelling.
		w.put(key, e, pn+n)
	}
	return e, pn + n, 0
}

func (w *walker) put(key string, e *dirEntry, links int) {
	if !w.volatile {
		w.c.put(key, cached{e: e, links: links})
	}
}

// stepDir enters name from the directory d, as an intermediate component.
func (w *walker) stepDir(d *dirEntry, name string, base int) (*dirEntry, int, syscall.Errno) {
	if d.native {
		return &dirEntry{hosts: []string{join(d.hosts[0], name)}, native: true}, 0, 0
	}
	switch name {
	case ".", "..":
		if errno := w.searchable(d); errno != 0 {
			return nil, 0, errno
		}
		if name == "." {
			return d, 0, 0
		}
		e, _, errno := w.lookupDir(parentOf(d.guest), base)
		return e, 0, errno
	}
	c, stack, errno := w.find(d, name, false, true)
	if errno != 0 {
		return nil, 0, errno
	}
	switch c.kind {
	case kMissing:
		return nil, 0, syscall.ENOENT
	case kOther:
		return nil, 0, syscall.ENOTDIR
	case kDir:
		g := join(d.guest, name)
		e := w.r.newDir(g, c.rule, stack, c.pass)
		w.put(g, e, 0)
		return e, 0, 0
	}
	if base >= maxSymlinks {
		return nil, 0, syscall.ELOOP
	}
	tgt, magic, errno := w.readLink(&c)
	if errno != 0 {
		return nil, 0, errno
	}
	if magic && (w.req.NoMagicLinks || w.req.NoSymlinks) {
		return nil, 0, syscall.ELOOP
	}
	if magic {
		g, how := w.r.magicTarget(tgt)
		switch how {
		case magicNotPath:
			// A pipe, a socket, an anon inode: not a directory.
			return nil, 0, syscall.ENOTDIR
		case magicDeleted:
			return nil, 0, syscall.ENOENT
		case magicOutside:
			// The process holds it, but the guest view has no name for it:
			// let the kernel resolve the rest from the link itself.
			return &dirEntry{hosts: []string{hostJoin(c.pfx[c.layer], c.name)}, native: true}, 1, 0
		}
		tgt = g
	}
	if tgt == "" {
		return nil, 0, syscall.ENOENT
	}
	if tgt[0] != '/' {
		tgt = join(d.guest, tgt)
	}
	e, n, errno := w.lookupDir(trimSlashes(tgt), base+1)
	if errno != 0 {
		return nil, 0, errno
	}
	w.put(join(d.guest, name), e, n+1)
	return e, n + 1, 0
}

// searchable fails as the kernel does when a walk meets "." or ".." in a
// directory it may not search: those names need no lookup, so no other
// syscall of the walk would notice.
func (w *walker) searchable(d *dirEntry) syscall.Errno {
	w.touch(d.hosts[0], ".")
	_, errno := lstatKind(d.hosts[0], ".", false)
	return errno
}

// touch notes a host path under /proc: see walker.volatile.
func (w *walker) touch(dir, name string) {
	if strings.HasPrefix(dir, "/proc/") || dir == "/proc" && name != "" {
		w.volatile = true
	}
}

// child is what a name is in a guest directory.
type child struct {
	kind uint8
	rule *filemap.Rule
	// The name lives at pfx[i]/name in layer i (pfx[i] itself when name is
	// empty, for a rule that starts at this name).
	pfx   []string
	name  string
	layer int    // the layer that has it; for kMissing, where it would go
	pass  bool   // see dirEntry.pass
	mode  uint32 // st_mode of what layer has
	// ov: the overlay applies (a redirect rule, and a stage): pfx[0] is the
	// stage directory, the others the lower ones.
	ov bool
}

// find looks name up in d: its rule (deny and ask decided here), then the
// first layer that has it. With stack, a directory's merged stack is
// returned too. final says name is the last component of the request.
func (w *walker) find(d *dirEntry, name string, final, stack bool) (c child, st []string, errno syscall.Errno) {
	c.rule, c.pfx, c.name = d.rule, d.hosts, name
	kr, kid := d.kids[name]
	if kid {
		c.rule, c.pfx, c.name = kr, w.r.layers[kr], ""
	}
	if c.rule != nil && (c.rule.Action == filemap.Deny || c.rule.Action == filemap.Ask) {
		g := join(d.guest, name)
		writes := final && w.req.Op >= OpWrite
		if w.r.pass[g] && !writes {
			// Traversed as if the rule were not there: served by the
			// parent's layers.
			c.pfx, c.name, c.pass = d.hosts, name, true
		} else if errno = w.decide(c.rule, g); errno != 0 {
			w.denied = c.rule
			// A hidden name that a create would make, or that leads to an
			// allowed rule (so is visible): refusing is all that is left.
			if errno == syscall.ENOENT && writes && (w.req.Op == OpCreate && g == c.rule.Path || w.r.pass[g]) {
				errno = syscall.EACCES
			}
			return c, nil, errno
		} else {
			c.pfx, c.name = []string{g}, ""
		}
	}
	s := w.r.st
	first := 0
	if s != nil && !c.pass && isRedirect(c.rule) {
		c.ov = true
		if !kid {
			c.pfx = d.look
			if !d.staged {
				// The stage has no such directory, so not the name either.
				first = 1
			}
		}
	}
	if len(c.pfx) == 0 {
		return c, nil, syscall.ENOENT
	}
	home := -1 // the first layer that could hold the name
	if c.ov {
		home = 0 // the stage: parents are made there as needed
	}
	for i := first; i < len(c.pfx); i++ {
		if c.ov && i == 1 && s.whited(d.guest, name) {
			// Not in the stage, and whited out: hidden in every lower layer.
			break
		}
		p := c.pfx[i]
		w.touch(p, c.name)
		si, e := lstatInfo(p, c.name, false)
		if e == syscall.ENOENT {
			if home < 0 {
				home = i
			}
			continue
		}
		if e == syscall.ENOTDIR {
			// Not in this layer, nor can it be: a rule's layer root below
			// a non-directory on the host.
			continue
		}
		if e != 0 {
			return c, nil, e
		}
		if s != nil && si.kind == kDir && si.ino == s.ino && si.dev == s.dev {
			// The stage itself is not part of the guest view.
			return c, nil, syscall.ENOENT
		}
		c.kind, c.layer, c.mode = si.kind, i, si.mode
		if si.kind == kDir && stack {
			st = make([]string, 1, len(c.pfx)-i)
			st[0] = hostJoin(p, c.name)
			if c.ov && i == 0 {
				if g := join(d.guest, name); s.isOpaque(g) || s.isWhite(g) {
					// An opaque directory hides the lower ones. (A whiteout
					// under a staged directory is one whose clearing a crash
					// lost: the directory was created over it.)
					return c, st, 0
				}
			}
			for _, q := range c.pfx[i+1:] {
				k2, e2 := lstatKind(q, c.name, false)
				if e2 != 0 {
					continue
				}
				if k2 != kDir {
					// As in overlayfs, a lower non-directory ends the merge.
					break
				}
				st = append(st, hostJoin(q, c.name))
			}
		}
		return c, st, 0
	}
	if home < 0 {
		// No layer can even hold the name: it is missing, and the kernel
		// would not say ENOENT for any of the host paths.
		return c, nil, syscall.ENOENT
	}
	c.kind, c.layer = kMissing, home
	return c, nil, 0
}

// plain reports whether a rule serves paths without deciding anything:
// no deny, no ask.
func plain(rule *filemap.Rule) bool {
	return rule == nil || rule.Action == filemap.Redirect || rule.Action == filemap.Grant
}

// decide is the errno a deny or ask rule gives guest path g; 0 allows.
func (w *walker) decide(rule *filemap.Rule, g string) syscall.Errno {
	if rule.Action == filemap.Deny {
		if rule.Errno == 0 {
			return syscall.EACCES
		}
		return rule.Errno
	}
	if w.r.opt.AskFunc == nil {
		return syscall.EACCES
	}
	return w.r.opt.AskFunc(rule, g, w.req)
}

// rootEntry resolves "/".
func (w *walker) rootEntry() (*dirEntry, syscall.Errno) {
	r := w.r
	e := &dirEntry{guest: "/", rule: r.root, kids: r.kids["/"]}
	pfx := []string{"/"}
	if rule := r.root; rule != nil {
		switch rule.Action {
		case filemap.Deny, filemap.Ask:
			if r.pass["/"] {
				e.pass = true
			} else if errno := w.decide(rule, "/"); errno != 0 {
				w.denied = rule
				return nil, errno
			}
		default:
			pfx = r.layers[rule]
		}
	}
	var hosts []string
	for _, p := range pfx {
		k, errno := lstatKind(p, "", true)
		if errno != 0 {
			continue
		}
		if k != kDir {
			break
		}
		hosts = append(hosts, p)
	}
	if len(hosts) == 0 {
		return nil, syscall.ENOENT
	}
	return r.newDir("/", e.rule, hosts, e.pass), 0
}

// newDir makes the dirEntry of guest directory g.
func (r *Resolver) newDir(g string, rule *filemap.Rule, hosts []string, pass bool) *dirEntry {
	e := &dirEntry{guest: g, rule: rule, hosts: hosts, kids: r.kids[g], pass: pass}
	if r.st != nil && !pass && isRedirect(rule) {
		e.stage = joinPath(r.st.root, g)
		e.staged = len(hosts) > 0 && hosts[0] == e.stage
		if e.staged {
			e.look = hosts
		} else {
			e.look = append([]string{e.stage}, hosts...)
		}
	}
	return e
}

// isRedirect reports whether rule is a redirect.
func isRedirect(rule *filemap.Rule) bool {
	return rule != nil && rule.Action == filemap.Redirect
}

// readLink reads the symlink c at the layer that has it. /proc/self and
// /proc/thread-self are answered for the tracee, not for the tracer that
// reads them; magic says the link is one of a process's magic links
// (/proc/PID/{cwd,exe,root,fd/N,...}), whose target is a host path or no
// path at all.
func (w *walker) readLink(c *child) (tgt string, magic bool, errno syscall.Errno) {
	dir := c.pfx[c.layer]
	if strings.HasPrefix(dir, "/proc") {
		host := hostJoin(dir, c.name)
		pid, tid := w.req.Pid, w.req.Tid
		if tid == 0 {
			tid = pid
		}
		switch {
		case pid != 0 && host == "/proc/self":
			return strconv.Itoa(pid), false, 0
		case pid != 0 && host == "/proc/thread-self":
			return strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid), false, 0
		}
		magic = isPidPath(host)
	}
	tgt, errno = readlinkAt(dir, c.name)
	return tgt, magic, errno
}

// isPidPath reports whether host is below a /proc/PID directory, where every
// symlink is a magic link.
func isPidPath(host string) bool {
	rest, ok := strings.CutPrefix(host, "/proc/")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return false
	}
	for _, ch := range rest[:i] {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}

const (
	magicMapped  = iota // a host path with a guest name
	magicOutside        // a host path outside the guest view
	magicDeleted        // "PATH (deleted)": the object has no name left
	magicNotPath        // "pipe:[123]", "anon_inode:[eventfd]", ...
)

// magicTarget maps what readlink of a magic link gave back to guest space.
func (r *Resolver) magicTarget(tgt string) (string, int) {
	switch {
	case tgt == "" || tgt[0] != '/':
		return "", magicNotPath
	case strings.HasSuffix(tgt, " (deleted)"):
		return "", magicDeleted
	case tgt == "/":
		// The tracee's root is the guest's root, whatever "/" maps to.
		return "/", magicMapped
	}
	if g, ok := r.GuestPath(tgt); ok {
		return g, magicMapped
	}
	return "", magicOutside
}

// lowerLayer is the lower layer of rule whose directory, joined to guest's
// part below rule.Path, spells host; "" if none does. It allocates nothing:
// the answer's strings are compared with the layers' own.
func (r *Resolver) lowerLayer(rule *filemap.Rule, guest, host string) string {
	rest, ok := under(guest, rule.Path)
	if !ok {
		return ""
	}
	ls := r.layers[rule]
	if r.st != nil && len(ls) > 0 {
		ls = ls[1:] // the stage's mirror of rule.Path
	}
	for _, l := range ls {
		switch {
		case rest == "":
			if host == l {
				return l
			}
		case l == "/":
			if host == rest {
				return l
			}
		case len(host) == len(l)+len(rest) && strings.HasPrefix(host, l) && strings.HasSuffix(host, rest):
			return l
		}
	}
	return ""
}
