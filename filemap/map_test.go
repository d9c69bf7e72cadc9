package filemap

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// naiveLookup is the reference Lookup: a linear scan with the semantics
// spelled out. Among matching rules the longest path wins, and of equal
// ones the last.
func naiveLookup(rules []Rule, p string) *Rule {
	var best *Rule
	bestLen := -1
	for i := range rules {
		rp := strings.TrimRight(rules[i].Path, "/")
		if rp == "" {
			rp = "/"
		}
		var ok bool
		if rp == "/" {
			ok = strings.HasPrefix(p, "/")
		} else {
			ok = p == rp || strings.HasPrefix(p, rp+"/")
		}
		if ok && len(rp) >= bestLen {
			best, bestLen = &rules[i], len(rp)
		}
	}
	return best
}

// rules builds rules from "PATH ACTION" specs (PATH may hold spaces); each
// rule's Source is its index, so that tests can tell duplicates apart.
func rules(specs ...string) []Rule {
	var rs []Rule
	for i, s := range specs {
		sp := strings.LastIndexByte(s, ' ')
		p, a := s[:sp], s[sp+1:]
		act, err := ParseAction(a)
		if err != nil {
			panic(err)
		}
		rs = append(rs, Rule{Path: p, Action: act, Source: strconv.Itoa(i)})
	}
	return rs
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules []Rule
		path  string
		want  string // Source of the winning rule, "" for none
	}{
		{"empty map", nil, "/usr", ""},
		{"no match", rules("/usr grant"), "/opt", ""},
		{"exact", rules("/usr grant"), "/usr", "0"},
		{"below", rules("/usr grant"), "/usr/lib/libc.so", "0"},
		{"component boundary", rules("/usr grant"), "/usrlocal", ""},
		{"component boundary deeper", rules("/usr/lib grant"), "/usr/lib64/x", ""},
		{"shorter path", rules("/usr/lib grant"), "/usr", ""},
		{"root rule covers all", rules("/ redirect"), "/any/thing", "0"},
		{"root rule covers root", rules("/ redirect"), "/", "0"},
		{"root without root rule", rules("/usr grant"), "/", ""},
		{"longest wins", rules("/ redirect", "/usr grant", "/usr/lib deny"), "/usr/lib/x", "2"},
		{"longest wins regardless of order", rules("/usr/lib deny", "/usr grant", "/ redirect"), "/usr/lib/x", "0"},
		{"falls back to shorter", rules("/ redirect", "/usr grant", "/usr/lib deny"), "/usr/share", "1"},
		{"falls back past gap", rules("/ redirect", "/a/b/c grant"), "/a/b/d", "0"},
		{"tie later wins", rules("/usr grant", "/usr deny"), "/usr/x", "1"},
		{"tie later wins, three", rules("/usr grant", "/usr deny", "/usr ask"), "/usr", "2"},
		{"tie on root", rules("/ grant", "/ deny"), "/x", "1"},
		{"trailing slash in rule", rules("/usr/ grant"), "/usr/lib", "0"},
		{"trailing slashes in rule", rules("/usr// grant"), "/usr", "0"},
		{"trailing slash rule ties plain", rules("/usr grant", "/usr/ deny"), "/usr", "1"},
		{"trailing slash in lookup", rules("/usr grant"), "/usr/", "0"},
		{"trailing slash in lookup, deeper", rules("/usr grant", "/usr/lib deny"), "/usr/lib/", "1"},
		{"trailing slash boundary", rules("/usr grant"), "/usrx/", ""},
		{"root with trailing slashes", rules("/ grant"), "//", "0"},
		{"deep", rules("/a grant", "/a/b/c/d/e/f/g/h deny"), "/a/b/c/d/e/f/g/h/i/j/k/l/m", "1"},
		{"deep miss", rules("/a grant", "/a/b/c/d/e/f/g/h deny"), "/a/b/c/d/e/f/g/x/i", "0"},
		{"dot is a name, not cleaned", rules("/a grant", "/a/b deny"), "/a/./b", "0"},
		{"relative path matches nothing", rules("/ grant"), "usr", ""},
		{"empty path matches nothing", rules("/ grant"), "", ""},
		{"prefix of component", rules("/us grant"), "/usr", ""},
		{"unicode and spaces", rules("/home/ü ser grant"), "/home/ü ser/x", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			got := m.Lookup(tc.path)
			gs := ""
			if got != nil {
				gs = got.Source
			}
			if gs != tc.want {
				t.Errorf("Lookup(%q) = rule %q (%v), want rule %q", tc.path, gs, got, tc.want)
			}
			// The reference agrees on every case above except a doubled
			// slash, which Lookup tolerates and the reference does not.
			if !strings.Contains(tc.path, "//") {
				n := naiveLookup(tc.rules, tc.path)
				ns := ""
				if n != nil {
					ns = n.Source
				}
				if ns != tc.want {
					t.Errorf("reference Lookup(%q) = %q, want %q", tc.path, ns, tc.want)
				}
			}
		})
	}
}

func TestLookupNilMap(t *testing.T) {
	var m *Map
	if r := m.Lookup("/"); r != nil {
		t.Errorf("nil Map Lookup = %v", r)
	}
	if r := m.Rules(); r != nil {
		t.Errorf("nil Map Rules = %v", r)
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule Rule
		want string // error substring; "" for success
		norm Rule   // expected normalised rule on success
	}{
		{"ok", Rule{Path: "/usr", Action: Grant}, "", Rule{Path: "/usr", Action: Grant}},
		{"root", Rule{Path: "/", Action: Redirect}, "", Rule{Path: "/", Action: Redirect}},
		{"root slashes", Rule{Path: "///", Action: Redirect}, "", Rule{Path: "/", Action: Redirect}},
		{"trailing slash", Rule{Path: "/usr/lib/", Action: Grant}, "", Rule{Path: "/usr/lib", Action: Grant}},
		{"to trailing slash", Rule{Path: "/usr", Action: Redirect, To: []string{"/sdk/usr/"}}, "", Rule{Path: "/usr", Action: Redirect, To: []string{"/sdk/usr"}}},
		{"empty to is nil", Rule{Path: "/usr", Action: Redirect, To: []string{}}, "", Rule{Path: "/usr", Action: Redirect}},
		{"deny default errno", Rule{Path: "/x", Action: Deny}, "", Rule{Path: "/x", Action: Deny, Errno: syscall.EACCES}},
		{"deny ENOENT", Rule{Path: "/x", Action: Deny, Errno: syscall.ENOENT}, "", Rule{Path: "/x", Action: Deny, Errno: syscall.ENOENT}},
		{"deny EPERM", Rule{Path: "/x", Action: Deny, Errno: syscall.EPERM}, "", Rule{Path: "/x", Action: Deny, Errno: syscall.EPERM}},
		{"empty path", Rule{Path: "", Action: Grant}, "empty", Rule{}},
		{"relative", Rule{Path: "usr", Action: Grant}, "not absolute", Rule{}},
		{"dotdot", Rule{Path: "/usr/../etc", Action: Grant}, `not clean (want "/etc")`, Rule{}},
		{"dot", Rule{Path: "/usr/./lib", Action: Grant}, "not clean", Rule{}},
		{"double slash", Rule{Path: "//usr", Action: Grant}, "not clean", Rule{}},
		{"nul", Rule{Path: "/us\x00r", Action: Grant}, "NUL", Rule{}},
		{"to on grant", Rule{Path: "/usr", Action: Grant, To: []string{"/a"}}, "only for redirect", Rule{}},
		{"to on deny", Rule{Path: "/usr", Action: Deny, To: []string{"/a"}}, "only for redirect", Rule{}},
		{"to relative", Rule{Path: "/usr", Action: Redirect, To: []string{"/a", "b"}}, "to[1]", Rule{}},
		{"errno on grant", Rule{Path: "/usr", Action: Grant, Errno: syscall.ENOENT}, "only for deny", Rule{}},
		{"bad errno", Rule{Path: "/usr", Action: Deny, Errno: syscall.EIO}, "not allowed", Rule{}},
		{"bad action", Rule{Path: "/usr", Action: Action(9)}, "unknown action", Rule{}},
		{"source in message", Rule{Path: "usr", Action: Grant, Source: "--map usr=/x"}, "--map usr=/x", Rule{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New([]Rule{{Path: "/", Action: Redirect}, tc.rule})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want one containing %q", err, tc.want)
				}
				if !strings.Contains(err.Error(), "rule 2") {
					t.Errorf("err = %v, does not say which rule", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := m.Lookup(tc.norm.Path)
			if got == nil || got.Path != tc.norm.Path || got.Action != tc.norm.Action ||
				got.Errno != tc.norm.Errno || !slices.Equal(got.To, tc.norm.To) || (got.To == nil) != (tc.norm.To == nil) {
				t.Errorf("got %#v, want %#v", got, tc.norm)
			}
		})
	}
}

// The Map must not share memory with what New was given.
func TestNewCopies(t *testing.T) {
	in := []Rule{{Path: "/usr", Action: Redirect, To: []string{"/sdk/usr"}}}
	m, err := New(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Path, in[0].To[0] = "/opt", "/evil"
	r := m.Lookup("/usr/x")
	if r == nil || r.Path != "/usr" || r.To[0] != "/sdk/usr" {
		t.Errorf("Map changed with its input: %v", r)
	}
}

func TestRules(t *testing.T) {
	m, err := New(rules(
		"/ redirect",
		"/usr grant",
		"/usr/lib deny",
		"/tmp grant",
		"/usr ask", // replaces "/usr grant"
		"/usr/include grant",
		"/a/b/c grant",
		"/tmp/ deny", // replaces "/tmp grant"
	))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range m.Rules() {
		got = append(got, r.Path+" "+r.Action.String()+" "+r.Source)
	}
	want := []string{
		"/a/b/c grant 6",
		"/usr/include grant 5",
		"/usr/lib deny 2",
		"/tmp deny 7",
		"/usr ask 4",
		"/ redirect 0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Rules() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A copy: changing it does not change the Map.
	rs := m.Rules()
	rs[0].Path = "/changed"
	if m.Rules()[0].Path != "/a/b/c" {
		t.Error("Rules() returned the Map's own slice")
	}
}

func TestLookupAllocs(t *testing.T) {
	m, err := New(rules("/ redirect", "/usr grant", "/usr/lib deny", "/home/u/.cache grant"))
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/", "/home/u/.cache/go-build/ab/cd", "/nope", "", "rel"}
	allocs := testing.AllocsPerRun(1000, func() {
		for _, p := range paths {
			m.Lookup(p)
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times per run, want 0", allocs)
	}
}

// randomRules makes n rules over a small alphabet of components, so that
// they share prefixes, nest and collide the way real profiles do.
func randomRules(rng *rand.Rand, n int) []Rule {
	comps := []string{"usr", "lib", "lib64", "include", "share", "a", "b", "usrx", "x86_64-linux-gnu", "local", "etc"}
	rs := make([]Rule, n)
	for i := range rs {
		d := rng.Intn(6)
		p := ""
		for j := 0; j < d; j++ {
			p += "/" + comps[rng.Intn(len(comps))]
		}
		if p == "" {
			p = "/"
		}
		if rng.Intn(8) == 0 && p != "/" {
			p += "/"
		}
		rs[i] = Rule{Path: p, Action: Action(rng.Intn(4)), Source: strconv.Itoa(i)}
	}
	return rs
}

func TestLookupMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, n := range []int{1, 10, 100, 1000} {
		rs := randomRules(rng, n)
		m, err := New(rs)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range randomRules(rng, 5000) {
			got, want := m.Lookup(q.Path), naiveLookup(rs, q.Path)
			if (got == nil) != (want == nil) || (got != nil && got.Source != want.Source) {
				t.Fatalf("%d rules: Lookup(%q) = %v, want %v", n, q.Path, got, want)
			}
		}
	}
}

// 1,000 distinct rules, each found by its own path and below it.
func TestThousandRules(t *testing.T) {
	var rs []Rule
	for i := 0; i < 1000; i++ {
		rs = append(rs, Rule{Path: fmt.Sprintf("/p%d/q%d", i%37, i), Action: Grant, Source: strconv.Itoa(i)})
	}
	rs = append(rs, Rule{Path: "/", Action: Redirect, Source: "root"})
	m, err := New(rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rules()) != 1001 {
		t.Fatalf("%d rules", len(m.Rules()))
	}
	for i := 0; i < 1000; i++ {
		p := fmt.Sprintf("/p%d/q%d", i%37, i)
		for _, q := range []string{p, p + "/", p + "/deeper/file.c", p + "x"} {
			want := strconv.Itoa(i)
			if strings.HasSuffix(q, "x") {
				want = "root"
			}
			if r := m.Lookup(q); r == nil || r.Source != want {
				t.Fatalf("Lookup(%q) = %v, want rule %s", q, r, want)
			}
		}
	}
}

func TestConcurrentLookup(t *testing.T) {
	m, err := New(randomRules(rand.New(rand.NewSource(2)), 200))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 2000; i++ {
				m.Lookup("/usr/lib/x86_64-linux-gnu/libc.so")
			}
			done <- true
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
}

func TestHostPaths(t *testing.T) {
	for _, tc := range []struct {
		r    Rule
		want []string
	}{
		{Rule{Path: "/usr", Action: Redirect}, []string{"/usr"}},
		{Rule{Path: "/usr", Action: Redirect, To: []string{"/sdk/usr", "/usr"}}, []string{"/sdk/usr", "/usr"}},
		{Rule{Path: "/b", Action: Grant}, []string{"/b"}},
		{Rule{Path: "/x", Action: Deny}, nil},
		{Rule{Path: "/x", Action: Ask}, nil},
	} {
		if got := tc.r.HostPaths(); !slices.Equal(got, tc.want) {
			t.Errorf("%v.HostPaths() = %v, want %v", &tc.r, got, tc.want)
		}
	}
}

func TestActionAndErrnoNames(t *testing.T) {
	for _, a := range []Action{Redirect, Grant, Ask, Deny} {
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v", a.String(), got, err)
		}
	}
	if s := Action(9).String(); s != "Action(9)" {
		t.Errorf("Action(9).String() = %q", s)
	}
	for _, bad := range []string{"", "Grant", "redirct", "allow"} {
		if _, err := ParseAction(bad); err == nil {
			t.Errorf("ParseAction(%q) succeeded", bad)
		}
	}
	for _, e := range []syscall.Errno{syscall.EACCES, syscall.ENOENT, syscall.EPERM} {
		got, err := ParseErrno(ErrnoName(e))
		if err != nil || got != e {
			t.Errorf("ParseErrno(%q) = %v, %v", ErrnoName(e), got, err)
		}
	}
	if _, err := ParseErrno("EIO"); err == nil {
		t.Error("ParseErrno(EIO) succeeded")
	}
	if s := ErrnoName(syscall.EIO); s != "errno 5" {
		t.Errorf("ErrnoName(EIO) = %q", s)
	}
}

func TestRuleString(t *testing.T) {
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{Rule{Path: "/", Action: Redirect, Source: "default.toml:12"}, "/ redirect (default.toml:12)"},
		{Rule{Path: "/usr", Action: Redirect, To: []string{"/sdk/usr", "/usr"}}, "/usr redirect [/sdk/usr /usr]"},
		{Rule{Path: "/x", Action: Deny, Errno: syscall.ENOENT}, "/x deny ENOENT"},
		{Rule{Path: "/b", Action: Grant, Source: "--map"}, "/b grant (--map)"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// benchPaths are what a build looks up: mostly deep paths under a few
// prefixes, some misses.
var benchPaths = []string{
	"/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/usr/include/stdio.h",
	"/home/user/src/hello/src/main.c",
	"/tmp/cc1XyZ.s",
	"/etc/ld.so.cache",
	"/proc/self/exe",
	"/usr/share/locale/en_US/LC_MESSAGES/make.mo",
	"/nonexistent",
}

func benchLookup(b *testing.B, extra int) {
	rs := rules("/ redirect", "/tmp grant", "/var/tmp grant", "/dev grant", "/proc grant", "/sys grant",
		"/home/user/src/hello grant", "/home/user/.cache grant", "/usr/include redirect", "/usr/lib redirect")
	for i := 0; len(rs) < extra; i++ {
		rs = append(rs, Rule{Path: fmt.Sprintf("/opt/pkg%d/lib%d", i%50, i), Action: Grant})
	}
	m, err := New(rs)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if m.Lookup(benchPaths[i%len(benchPaths)]) == nil {
			b.Fatal("no rule")
		}
		i++
	}
}

func BenchmarkLookup10(b *testing.B)   { benchLookup(b, 10) }
func BenchmarkLookup1000(b *testing.B) { benchLookup(b, 1000) }
