// Package deps owns what vroot knows of the host's Debian packages: it reads
// dpkg's database (the file lists in /var/lib/dpkg/info, the diversions, the
// status file with each package's Depends, Pre-Depends, Provides and
// Essential flag), answers which package owns a file, computes the closure
// of a set of declared build dependencies, and decides, for --only-deps,
// which host files a build may not see. It reads files only; it knows
// nothing of tracing.
//
// Paths are indexed by their canonical directory: the directory part of
// every listed path is resolved through the symlinks of the tree under the
// root (so that on a merged-/usr system, where /lib is a link to usr/lib,
// /lib/x86_64-linux-gnu/libc.so.6 as dpkg lists it and
// /usr/lib/x86_64-linux-gnu/libc.so.6 as a build reads it are the same
// file); the last name is never followed, since a symlink is a file its
// package ships. Directories are shared by many packages and own nothing:
// only files (and symlinks) have owners.
package deps

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Package is one installed package, as the status file describes it.
type Package struct {
	Name      string
	Arch      string
	Essential bool
	// Depends and PreDepends are lists of alternatives ("a | b"), package
	// names only: versions and architecture qualifiers are dropped.
	Depends    [][]string
	PreDepends [][]string
	// Provides lists the virtual package names it provides.
	Provides []string
}

// DB is a read-only view of one dpkg database. It is safe for concurrent
// use.
type DB struct {
	root string
	pkgs []*Package
	// byName: every installed package of that name (one per architecture).
	byName map[string][]int
	// providers: the installed packages that provide a virtual name.
	providers map[string][]int
	// files[dir][name] are the packages that own dir/name, dir canonical.
	files map[string]map[string][]int32

	cmu   sync.RWMutex
	canon map[string]string
}

// Load reads the dpkg database of the tree at root ("/" for the host):
// root/var/lib/dpkg/{status,diversions,info/*.list}.
func Load(root string) (*DB, error) {
	if root == "" {
		root = "/"
	}
	admin := filepath.Join(root, "var/lib/dpkg")
	db := &DB{
		root:      filepath.Clean(root),
		byName:    map[string][]int{},
		providers: map[string][]int{},
		files:     map[string]map[string][]int32{},
		canon:     map[string]string{},
	}
	st, err := os.ReadFile(filepath.Join(admin, "status"))
	if err != nil {
		return nil, fmt.Errorf("dpkg database: %w", err)
	}
	pkgs, err := parseStatus(st)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(admin, "status"), err)
	}
	byKey := map[string]int{} // "name:arch" and, for the native ones, "name"
	for _, p := range pkgs {
		i := len(db.pkgs)
		db.pkgs = append(db.pkgs, p)
		db.byName[p.Name] = append(db.byName[p.Name], i)
		for _, v := range p.Provides {
			db.providers[v] = append(db.providers[v], i)
		}
		byKey[p.Name+":"+p.Arch] = i
	}
	divs, err := readDiversions(filepath.Join(admin, "diversions"))
	if err != nil {
		return nil, err
	}
	lists, err := filepath.Glob(filepath.Join(admin, "info", "*.list"))
	if err != nil {
		return nil, err
	}
	sort.Strings(lists)
	for _, l := range lists {
		key := strings.TrimSuffix(filepath.Base(l), ".list")
		name, arch, qualified := strings.Cut(key, ":")
		i, ok := -1, false
		if qualified {
			i, ok = byKey[name+":"+arch]
		} else if is := db.byName[name]; len(is) > 0 {
			// An unqualified list belongs to the package of that name
			// that is not Multi-Arch: same (there is one at most).
			i, ok = is[0], true
		}
		if !ok {
			// A list left by a package that is no longer installed (only
			// its configuration files remain): it owns nothing.
			continue
		}
		if err := db.addList(l, int32(i), name, divs); err != nil {
			return nil, err
		}
	}
	return db, nil
}

// addList indexes the files of one package's list.
func (db *DB) addList(file string, id int32, name string, divs map[string]diversion) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		p := line
		if p == "" || p == "/." || p[0] != '/' {
			continue
		}
		p = path.Clean(p)
		if d, ok := divs[p]; ok && d.by != name {
			// Diverted: this package's copy was installed under the
			// diversion's name; the original name belongs to the
			// diverting package (or to nobody, for a local diversion).
			p = d.to
		}
		dir, base := split(p)
		cd := db.canonDir(dir)
		m := db.files[cd]
		if m == nil {
			m = map[string][]int32{}
			db.files[cd] = m
		}
		if owners := m[base]; len(owners) == 0 || owners[len(owners)-1] != id {
			m[base] = append(owners, id)
		}
	}
	return nil
}

// diversion is one entry of dpkg's diversions file: the file "from" of
// every package but "by" is installed as "to". "by" is ":" for a local
// diversion (made by the administrator), which applies to every package.
type diversion struct {
	to, by string
}

// readDiversions reads dpkg's diversions file: three lines per diversion,
// the diverted path, where it goes, and the diverting package (":" for a
// local one). The format of `dpkg-divert --list` is not parsed: the file
// is what dpkg-divert itself reads.
func readDiversions(file string) (map[string]diversion, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil, nil
	}
	if len(lines)%3 != 0 {
		return nil, fmt.Errorf("%s: %d lines, not a multiple of 3", file, len(lines))
	}
	divs := make(map[string]diversion, len(lines)/3)
	for i := 0; i < len(lines); i += 3 {
		divs[path.Clean(lines[i])] = diversion{to: path.Clean(lines[i+1]), by: lines[i+2]}
	}
	return divs, nil
}

// parseStatus reads the installed packages of a status file: those whose
// files are on disk (Status installed, unpacked, half-configured,
// triggers-awaited or triggers-pending).
func parseStatus(data []byte) ([]*Package, error) {
	var out []*Package
	for para := range bytes.SplitSeq(data, []byte("\n\n")) {
		fields := map[string]string{}
		var last string
		for line := range strings.SplitSeq(string(para), "\n") {
			switch {
			case line == "":
			case line[0] == ' ' || line[0] == '\t':
				if last != "" {
					fields[last] += " " + strings.TrimSpace(line)
				}
			default:
				k, v, ok := strings.Cut(line, ":")
				if !ok {
					return nil, fmt.Errorf("malformed line %q", line)
				}
				last = strings.ToLower(k)
				fields[last] = strings.TrimSpace(v)
			}
		}
		name := fields["package"]
		if name == "" {
			continue
		}
		st := strings.Fields(fields["status"])
		if len(st) != 3 {
			continue
		}
		switch st[2] {
		case "installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending":
		default:
			continue
		}
		p := &Package{
			Name:       name,
			Arch:       fields["architecture"],
			Essential:  strings.EqualFold(fields["essential"], "yes"),
			Depends:    parseRelations(fields["depends"]),
			PreDepends: parseRelations(fields["pre-depends"]),
		}
		for _, alts := range parseRelations(fields["provides"]) {
			p.Provides = append(p.Provides, alts...)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseRelations parses a relationship field ("a (>= 1) | b:any, c") into
// its groups of alternatives, names only.
func parseRelations(s string) [][]string {
	var out [][]string
	for group := range strings.SplitSeq(s, ",") {
		var alts []string
		for alt := range strings.SplitSeq(group, "|") {
			alt = strings.TrimSpace(alt)
			if i := strings.IndexAny(alt, " ([<"); i >= 0 {
				alt = alt[:i]
			}
			alt, _, _ = strings.Cut(alt, ":")
			if alt != "" {
				alts = append(alts, alt)
			}
		}
		if len(alts) > 0 {
			out = append(out, alts)
		}
	}
	return out
}

// canonDir resolves the symlinks of directory d (absolute, clean) in the
// tree under the root, as the kernel would, re-rooting absolute targets.
// A component that does not exist is kept as spelled.
func (db *DB) canonDir(d string) string {
	db.cmu.RLock()
	c, ok := db.canon[d]
	db.cmu.RUnlock()
	if ok {
		return c
	}
	c = db.resolve(d, 0)
	db.cmu.Lock()
	db.canon[d] = c
	db.cmu.Unlock()
	return c
}

func (db *DB) resolve(d string, depth int) string {
	if d == "/" || depth > 40 {
		return d
	}
	parent, name := path.Split(d)
	p := db.canonDir(path.Clean(parent))
	full := path.Join(p, name)
	host := filepath.Join(db.root, full)
	fi, err := os.Lstat(host)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return full
	}
	t, err := os.Readlink(host)
	if err != nil {
		return full
	}
	if !path.IsAbs(t) {
		t = path.Join(p, t)
	}
	return db.resolve(path.Clean(t), depth+1)
}

// split is path.Split for a clean absolute path, without the trailing "/"
// on the directory.
func split(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/", p[i+1:]
	}
	return p[:i], p[i+1:]
}

// IsDir reports whether p (absolute) is a directory: the parent of some
// listed file, or a directory in the tree under the root.
func (db *DB) IsDir(p string) bool {
	p = path.Clean(p)
	if _, ok := db.files[db.canonDir(p)]; ok {
		return true
	}
	fi, err := os.Stat(filepath.Join(db.root, p))
	return err == nil && fi.IsDir()
}

// Owners returns the names of the packages that own the file p (absolute;
// its directory may be spelled through symlinks), sorted; none for a
// directory or an unowned file.
func (db *DB) Owners(p string) []string {
	p = path.Clean(p)
	if p == "/" {
		return nil
	}
	dir, name := split(p)
	ids := db.files[db.canonDir(dir)][name]
	if len(ids) == 0 {
		return nil
	}
	if _, isDir := db.files[path.Join(db.canonDir(dir), name)]; isDir {
		return nil
	}
	var out []string
	for _, id := range ids {
		n := db.pkgs[id].Name
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Installed reports whether a package of that name is installed, or one
// that provides it.
func (db *DB) Installed(name string) bool {
	return len(db.byName[name]) > 0 || len(db.providers[name]) > 0
}
