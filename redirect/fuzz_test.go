package redirect

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vroot-dev/vroot/filemap"
)

// The fuzzer's trees are small on purpose: few names, so that random
// symlinks and paths collide with each other and make loops, dots through
// links, files used as directories and layers that disagree.
var (
	fuzzNames = []string{
		"a", "b", "c", "a/a", "a/b", "a/c", "b/a", "b/b", "c/a", "a/a/a", "a/b/c", "b/a/b",
	}
	fuzzTargets = []string{
		".", "..", "a", "b", "/a", "/b/a", "a/b", "../b", "b/", "/", "c", "../../a",
		"/a/b/", "x", "a/../c", "../a/./b", "//b", "/c/a/b",
	}
	fuzzPathBytes = []string{"a", "b", "c", ".", "/", "x", fuzzLong, fuzzTooLong}
)

// Long names: the longest a component may be (NAME_MAX), and one byte
// more (ENAMETOOLONG), as names in the trees, link targets and path
// components. In paths they are spelled L and M.
var (
	fuzzLong    = strings.Repeat("l", 255)
	fuzzTooLong = strings.Repeat("m", 256)
)

func init() {
	fuzzNames = append(fuzzNames, fuzzLong, "a/"+fuzzLong, fuzzLong+"/a")
	fuzzTargets = append(fuzzTargets, fuzzLong, "/"+fuzzLong+"/a", "../"+fuzzLong, fuzzTooLong, fuzzLong+"/"+fuzzLong)
}

// fuzzLayers decodes spec into layer trees: a flags byte, then two bytes
// per entry (layer and name, kind and target).
func fuzzLayers(spec []byte) (flags byte, layers []tree) {
	if len(spec) == 0 {
		return 0, []tree{{}}
	}
	flags, spec = spec[0], spec[1:]
	n := min(1+int(flags&3), 3)
	layers = make([]tree, n)
	for i := range layers {
		layers[i] = tree{}
	}
	for ; len(spec) >= 2; spec = spec[2:] {
		l := layers[int(spec[0]>>6)%n]
		name := fuzzNames[int(spec[0]&0x3f)%len(fuzzNames)]
		var nd node
		switch spec[1] % 3 {
		case 0:
			nd = node{kind: 'd'}
		case 1:
			nd = node{kind: 'f', data: name + "@" + string(rune('0'+len(l)))}
		case 2:
			nd = node{kind: 'l', data: fuzzTargets[int(spec[1]/3)%len(fuzzTargets)]}
		}
		if _, ok := l[name]; ok || !roomFor(l, name) {
			continue
		}
		// Parents are directories, made as needed.
		for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
			if _, ok := l[d]; !ok {
				l[d] = node{kind: 'd'}
			}
		}
		l[name] = nd
	}
	return flags, layers
}

// roomFor says whether name can be added: no ancestor is a non-directory.
func roomFor(t tree, name string) bool {
	for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
		if n, ok := t[d]; ok && n.kind != 'd' {
			return false
		}
	}
	return true
}

// merge layers, topmost first, as overlayfs shows them: a directory over a
// directory merges, anything else hides what is below it.
func merge(layers []tree) tree {
	out := tree{}
	for i := len(layers) - 1; i >= 0; i-- {
		l := layers[i]
		paths := make([]string, 0, len(l))
		for p := range l {
			paths = append(paths, p)
		}
		sort.Slice(paths, func(a, b int) bool { return strings.Count(paths[a], "/") < strings.Count(paths[b], "/") })
		for _, p := range paths {
			n := l[p]
			if old, ok := out[p]; ok && old.kind == 'd' && n.kind == 'd' {
				continue
			}
			removeTree(out, p)
			out[p] = n
		}
	}
	return out
}

func removeTree(t tree, p string) {
	delete(t, p)
	for q := range t {
		if strings.HasPrefix(q, p+"/") {
			delete(t, q)
		}
	}
}

// graft replaces what t has at name by src's entry at from and below: a
// rule whose Path is name and whose layer is src/from.
func graft(t, src tree, name, from string) {
	removeTree(t, name)
	if n, ok := src[from]; ok {
		t[name] = n
	}
	for q, n := range src {
		if rest, ok := strings.CutPrefix(q, from+"/"); ok {
			t[name+"/"+rest] = n
		}
	}
}

// readTree reads back what was written, so that the model is what the
// kernel has.
func readTree(tb testing.TB, dir string) tree {
	t := tree{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			tgt, _ := os.Readlink(p)
			t[rel] = node{kind: 'l', data: tgt}
		case d.IsDir():
			t[rel] = node{kind: 'd'}
		default:
			b, _ := os.ReadFile(p)
			t[rel] = node{kind: 'f', data: string(b)}
		}
		return nil
	})
	return t
}

// fuzzPath keeps the bytes of s that are in the alphabet, so that seeds
// read as paths, and maps the others into it.
func fuzzPath(s string) string {
	var b strings.Builder
	b.WriteByte('/')
	// Under 3000 bytes: the host path (a temporary directory, then the
	// guest path) must stay under PATH_MAX for the comparison to mean
	// anything.
	for i := 0; i < len(s) && i < 128 && b.Len() < 3000-256; i++ {
		switch {
		case strings.IndexByte("abcx./", s[i]) >= 0:
			b.WriteByte(s[i])
		case s[i] == 'L':
			b.WriteString(fuzzLong)
		case s[i] == 'M':
			b.WriteString(fuzzTooLong)
		default:
			b.WriteString(fuzzPathBytes[int(s[i])%len(fuzzPathBytes)])
		}
	}
	return b.String()
}

// FuzzResolve builds random layered trees, and compares what the resolver
// makes of a random path with what the kernel says on the merged tree.
// Flags (spec[0]): bits 0-1 one to three layers; bit 2 a rule "/c" served
// by the top layer's "b" (a nested view that hides the layers' own "c").
// The seed corpus is in testdata/fuzz/FuzzResolve.
func FuzzResolve(f *testing.F) {
	f.Fuzz(func(t *testing.T, spec []byte, path string, follow bool) {
		if len(spec) > 64 {
			return
		}
		flags, layers := fuzzLayers(spec)
		var dirs []string
		for _, l := range layers {
			d := t.TempDir()
			l.write(t, d)
			dirs = append(dirs, d)
		}
		var real []tree
		for _, d := range dirs {
			real = append(real, readTree(t, d))
		}
		merged := merge(real)
		rules := []filemap.Rule{redirect("/", dirs...)}
		if flags&4 != 0 {
			rules = append(rules, redirect("/c", dirs[0]+"/b"))
			graft(merged, real[0], "c", "b")
		}
		oracleDir := t.TempDir()
		merged.write(t, oracleDir)
		r := newResolver(t, Options{}, rules...)
		p := fuzzPath(path)
		rootfd := openRoot(t, oracleDir)
		want := oracle(rootfd, p, follow)
		for pass := 0; pass < 2; pass++ { // cold, then warm cache
			got, ans := viaResolver(r, Request{Path: p, Op: OpRead, Follow: follow})
			if got != want {
				t.Fatalf("pass %d: %s follow=%v: got %v, want %v (host %q guest %q)\nlayers %v\nmerged %v",
					pass, p, follow, got, want, ans.Host, ans.Guest, real, merged)
			}
		}
	})
}
