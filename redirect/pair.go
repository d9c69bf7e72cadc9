package redirect

import "syscall"

// The syscalls with two paths check them in an order that resolving each
// path on its own cannot give: the kernel walks both parents before it
// looks at either last component, and checks the two objects against each
// other (a directory renamed over a file, into itself, ...) before the file
// system is asked (where overlayfs says EXDEV). ResolveRename and
// ResolveLink answer both paths together, in the kernel's order, and make
// no change to the stage (copy-up, parents, placeholder) until every check
// has passed. Resolve on each path works too, with the same answers when
// at most one of the paths fails, but a copy-up may then be made for a
// rename or link that fails on its other path, and rename of a
// non-directory over a non-empty lower directory says ENOTEMPTY where the
// kernel says EISDIR.

// failBoth is the pair of answers of a rename or link that fails on one
// of its paths: the errno, with nothing for the tracer to apply.
func failBoth(a Answer) (Answer, Answer) {
	a = Answer{Errno: a.Errno, Guest: a.Guest, Rule: a.Rule}
	return a, a
}

// ResolveRename answers rename, renameat and renameat2: old is the source
// (OpMove), new the destination (OpCreate with Replace, or with Excl for
// RENAME_NOREPLACE). When the rename must fail, both answers carry the
// errno; when it is a rename of a name onto itself, both have Skip (the
// kernel returns 0 and does nothing). Otherwise the tracer runs the
// syscall on the two Hosts, then Commits both answers. RENAME_EXCHANGE and
// RENAME_WHITEOUT are not handled: under a redirect rule the tracer must
// refuse them (EINVAL).
func (r *Resolver) ResolveRename(old, new Request) (Answer, Answer) {
	wo, wn := &walker{}, &walker{}
	ao, ok := r.walk(wo, old, true)
	if !ok || ao.Errno != 0 {
		return failBoth(ao)
	}
	an, ok := r.walk(wn, new, true)
	if !ok || an.Errno != 0 {
		return failBoth(an)
	}
	fail := func(e syscall.Errno, w *walker) (Answer, Answer) {
		a := Answer{Errno: e}
		if w.fin.ok {
			a.Guest, a.Rule = join(w.fin.d.guest, w.fin.name), w.fin.c.rule
		}
		return a, a
	}
	if _, name := splitLast(wo.path); special(name) {
		return fail(syscall.EBUSY, wo)
	}
	if _, name := splitLast(wn.path); special(name) {
		if new.Excl {
			return fail(syscall.EEXIST, wn)
		}
		return fail(syscall.EBUSY, wn)
	}
	fo, fn := wo.fin, wn.fin
	if fo.ok && fn.ok {
		oc, nc := &fo.c, &fn.c
		og, ng := join(fo.d.guest, fo.name), join(fn.d.guest, fn.name)
		oDir, nExists := oc.kind == kDir, nc.kind != kMissing
		switch {
		case oc.kind == kMissing:
			return fail(syscall.ENOENT, wo)
		case new.Excl && nExists:
			return fail(syscall.EEXIST, wn)
		case !oDir && (fo.slash || fn.slash):
			return fail(syscall.ENOTDIR, wo)
		case og == ng:
			a := Answer{Skip: true, Guest: og, Rule: oc.rule}
			return a, a
		case properlyUnder(ng, og):
			return fail(syscall.EINVAL, wo)
		case nExists && properlyUnder(og, ng):
			return fail(syscall.ENOTEMPTY, wn)
		case nExists && oDir && nc.kind != kDir:
			return fail(syscall.ENOTDIR, wn)
		case nExists && !oDir && nc.kind == kDir:
			return fail(syscall.EISDIR, wn)
		}
	}
	return r.applyPair(wo, ao, wn, an)
}

// ResolveLink answers link and linkat: old is the existing object
// (OpWrite, Follow with AT_SYMLINK_FOLLOW), new the new name (OpCreate
// with Excl). When the link must fail, both answers carry the errno.
func (r *Resolver) ResolveLink(old, new Request) (Answer, Answer) {
	wo, wn := &walker{}, &walker{}
	ao, ok := r.walk(wo, old, true)
	if !ok || ao.Errno != 0 {
		return failBoth(ao)
	}
	fo := wo.fin
	if fo.ok && fo.dir == nil {
		switch {
		case fo.c.kind == kMissing:
			return failBoth(Answer{Errno: syscall.ENOENT, Guest: join(fo.d.guest, fo.name), Rule: fo.c.rule})
		case fo.slash && fo.c.kind != kDir:
			return failBoth(Answer{Errno: syscall.ENOTDIR, Guest: join(fo.d.guest, fo.name), Rule: fo.c.rule})
		}
	}
	an, ok := r.walk(wn, new, true)
	if !ok || an.Errno != 0 {
		return failBoth(an)
	}
	fn := wn.fin
	g := ""
	if fn.ok {
		g = join(fn.d.guest, fn.name)
	}
	if _, name := splitLast(wn.path); special(name) || fn.ok && fn.c.kind != kMissing {
		return failBoth(Answer{Errno: syscall.EEXIST, Guest: g, Rule: an.Rule})
	}
	if fn.ok && fn.slash {
		return failBoth(Answer{Errno: syscall.ENOENT, Guest: g, Rule: fn.c.rule})
	}
	if fo.ok && (fo.dir != nil || fo.c.kind == kDir) {
		// Hard links to directories: EPERM, before the stage is touched.
		return failBoth(Answer{Errno: syscall.EPERM, Guest: g, Rule: ao.Rule})
	}
	return r.applyPair(wo, ao, wn, an)
}

// applyPair makes the answers of two dry walks whose checks have passed.
func (r *Resolver) applyPair(wo *walker, ao Answer, wn *walker, an Answer) (Answer, Answer) {
	a1 := wo.apply(ao)
	if a1.Errno != 0 {
		a1 = Answer{Errno: a1.Errno, Guest: a1.Guest, Rule: a1.Rule}
		return a1, a1
	}
	a2 := wn.apply(an)
	if a2.Errno != 0 {
		r.Commit(a1, false)
		a2 = Answer{Errno: a2.Errno, Guest: a2.Guest, Rule: a2.Rule}
		return a2, a2
	}
	return a1, a2
}

// apply finishes a dry walk: the captured write is made.
func (w *walker) apply(a Answer) Answer {
	f := &w.fin
	switch {
	case !f.ok:
		return w.finish(a)
	case f.dir != nil:
		return w.writeSelf(f.dir, f.slash)
	}
	return w.write(f.d, f.name, &f.c, f.slash)
}

// special reports whether a last component names no entry of its own.
func special(name string) bool {
	return name == "" || name == "." || name == ".."
}

// properlyUnder reports whether p is strictly below dir.
func properlyUnder(p, dir string) bool {
	rest, ok := under(p, dir)
	return ok && rest != ""
}
