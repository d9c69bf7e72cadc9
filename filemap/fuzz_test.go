package filemap

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vroot-dev/vroot/configs"
)

// FuzzLoadBytes: any input gives a profile or a *ProfileError, never a
// panic; and a profile that loads also compiles. Seeds are in
// testdata/fuzz/FuzzLoadBytes, plus the shipped profiles and testdata/bad.
func FuzzLoadBytes(f *testing.F) {
	for _, name := range configs.Names() {
		data, err := configs.FS.ReadFile(name + ".toml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	bad, err := filepath.Glob(filepath.Join("testdata", "bad", "*.toml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range bad {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	shipped := fstest.MapFS{
		"default.toml": {Data: []byte("net = \"allow\"\n[[rule]]\npath = \"/\"\naction = \"redirect\"\n")},
		"sdk.toml":     {Data: []byte("include = [\"default\"]\n[[rule]]\npath = \"/usr\"\naction = \"redirect\"\nto = [\"${SDK}/usr\", \"/usr\"]\n")},
		"loop.toml":    {Data: []byte("include = [\"loop\"]\n")},
	}
	l := &Loader{
		Vars:    Vars{CWD: "/build", HOME: "/home/u", SDK: "/sdk"},
		Shipped: shipped,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The name's directory does not exist, so relative includes fail
		// fast instead of reading the test's own files.
		p, err := l.LoadBytes("/nonexistent-fuzz-dir/fuzz.toml", data)
		if err != nil {
			var pe *ProfileError
			if !errors.As(err, &pe) {
				t.Fatalf("%T %v, want a *ProfileError", err, err)
			}
			if pe.File == "" || pe.Msg == "" {
				t.Fatalf("error with no file or message: %#v", pe)
			}
			return
		}
		if _, err := New(p.Rules); err != nil {
			t.Fatalf("profile loads but does not compile: %v", err)
		}
		// Every rule is located, and the file's own rules in the order
		// they are written: this is what checks the locator.
		const own = "/nonexistent-fuzz-dir/fuzz.toml:"
		last := 0
		for _, r := range p.Rules {
			i := strings.LastIndexByte(r.Source, ':')
			line, err := strconv.Atoi(r.Source[i+1:])
			if i < 0 || err != nil || line <= 0 {
				t.Fatalf("rule %v is not located", r)
			}
			if strings.HasPrefix(r.Source, own) {
				if line < last {
					t.Fatalf("rule at line %d after one at line %d", line, last)
				}
				last = line
			}
		}
	})
}

// FuzzLookup compares the trie with naiveLookup. rules holds one rule path
// per line, made absolute and clean (keeping a trailing slash, which New
// must accept); query is looked up both as given, for panics, and cleaned,
// for the comparison.
func FuzzLookup(f *testing.F) {
	f.Fuzz(func(t *testing.T, rules string, query string) {
		var rs []Rule
		for i, line := range strings.Split(rules, "\n") {
			if strings.IndexByte(line, 0) >= 0 {
				continue
			}
			p := path.Clean("/" + line)
			if strings.HasSuffix(line, "/") && p != "/" {
				p += "/"
			}
			rs = append(rs, Rule{Path: p, Action: Action(i % 4), Source: strconv.Itoa(i)})
		}
		m, err := New(rs)
		if err != nil {
			t.Fatalf("New(%v): %v", rs, err)
		}
		m.Lookup(query)
		q := path.Clean("/" + query)
		if strings.HasSuffix(query, "/") && q != "/" {
			q += "/"
		}
		got, want := m.Lookup(q), naiveLookup(rs, q)
		if (got == nil) != (want == nil) || (got != nil && got.Source != want.Source) {
			t.Fatalf("Lookup(%q) = %v, want %v", q, got, want)
		}
	})
}
