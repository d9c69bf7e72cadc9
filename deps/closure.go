package deps

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// BuildEssential is the package whose dependency closure every Debian build
// may use without declaring it (Debian Policy §4.2).
const BuildEssential = "build-essential"

// Closure returns the names of the packages a build that declares the
// given packages may use, sorted: the declared ones, build-essential (when
// installed) and every Essential package, and everything they depend on
// (Depends and Pre-Depends; Recommends are not needed to build), installed
// packages only.
//
// A declared name may carry an architecture qualifier ("zlib1g-dev:amd64",
// dropped: every architecture of a package counts as that package) or be a
// virtual name, which stands for each installed package that provides it.
// A declared name that nothing installed matches is an error: the build
// could not use it, and a typo would otherwise hide what it meant to allow.
//
// A dependency is a group of alternatives ("libc6-dev | libc-dev"), each a
// real package or a virtual one (its installed providers, by name). The
// group is met by the first candidate already in the closure, if any (what
// was declared or is Essential wins over what merely comes first),
// otherwise by the first installed candidate, in the order the group names
// them, a virtual name's providers in name order. A group that nothing
// installed meets adds nothing. The closure is computed breadth first from
// the sorted roots, so it does not depend on the order of the declaration.
func (db *DB) Closure(declared []string) ([]string, error) {
	in := make([]bool, len(db.pkgs))
	var queue []int
	add := func(ids []int) {
		for _, id := range ids {
			if !in[id] {
				in[id] = true
				queue = append(queue, id)
			}
		}
	}
	names := append([]string(nil), declared...)
	sort.Strings(names)
	for _, n := range names {
		n, _, _ = strings.Cut(strings.TrimSpace(n), ":")
		if n == "" {
			continue
		}
		ids := db.candidates(n)
		if len(ids) == 0 {
			return nil, fmt.Errorf("package %q is not installed", n)
		}
		if len(db.byName[n]) > 0 {
			add(db.byName[n])
		} else {
			add(ids)
		}
	}
	add(db.byName[BuildEssential])
	for id, p := range db.pkgs {
		if p.Essential {
			add([]int{id})
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		p := db.pkgs[id]
		for _, rels := range [][][]string{p.PreDepends, p.Depends} {
			for _, group := range rels {
				add(db.meet(group, in))
			}
		}
	}
	var out []string
	for id, ok := range in {
		if ok && !slices.Contains(out, db.pkgs[id].Name) {
			out = append(out, db.pkgs[id].Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// candidates are the installed packages a relation on name can mean: the
// packages of that name, then its providers.
func (db *DB) candidates(name string) []int {
	ids := append([]int(nil), db.byName[name]...)
	prov := append([]int(nil), db.providers[name]...)
	sort.SliceStable(prov, func(i, j int) bool { return db.pkgs[prov[i]].Name < db.pkgs[prov[j]].Name })
	return append(ids, prov...)
}

// meet is what a dependency group adds to the closure (see Closure): the
// packages of the chosen candidate's name (every installed architecture),
// or nothing when the group is met already or cannot be.
func (db *DB) meet(group []string, in []bool) []int {
	var first []int
	for _, alt := range group {
		for _, id := range db.candidates(alt) {
			if in[id] {
				return nil
			}
			if first == nil {
				first = db.byName[db.pkgs[id].Name]
			}
		}
	}
	return first
}

// Policy is the --only-deps decision: which host files a build that
// declared some packages may not see. It is immutable and safe for
// concurrent use.
type Policy struct {
	db      *DB
	allowed []string
	// hidden[dir][name]: the owners of a file none of whose owners is in
	// the closure, dir canonical.
	hidden map[string]map[string][]int32
}

// OnlyDeps builds the policy for a build that declares the given packages:
// a file is hidden when it has owners and none of them is in
// Closure(declared). Unowned files are never hidden.
func (db *DB) OnlyDeps(declared []string) (*Policy, error) {
	allowed, err := db.Closure(declared)
	if err != nil {
		return nil, err
	}
	ok := make([]bool, len(db.pkgs))
	for id, p := range db.pkgs {
		ok[id] = slices.Contains(allowed, p.Name)
	}
	pol := &Policy{db: db, allowed: allowed, hidden: map[string]map[string][]int32{}}
	for dir, names := range db.files {
		for name, owners := range names {
			if _, isDir := db.files[join(dir, name)]; isDir {
				continue
			}
			hide := true
			for _, id := range owners {
				if ok[id] {
					hide = false
					break
				}
			}
			if !hide {
				continue
			}
			m := pol.hidden[dir]
			if m == nil {
				m = map[string][]int32{}
				pol.hidden[dir] = m
			}
			m[name] = owners
		}
	}
	return pol, nil
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// Allowed returns the closure the policy allows, sorted.
func (p *Policy) Allowed() []string { return p.allowed }

// Undeclared reports whether the file name in directory dir (canonical:
// its symlinks resolved, as the resolver's guest directories are) belongs
// only to packages outside the closure, and which ("a, b" when several
// share it). It does not allocate when the answer is no, which is the
// common case on the resolver's hot path.
func (p *Policy) Undeclared(dir, name string) (pkg string, hide bool) {
	owners, ok := p.hidden[dir][name]
	if !ok {
		return "", false
	}
	var names []string
	for _, id := range owners {
		if n := p.db.pkgs[id].Name; !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", "), true
}
