package filemap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vroot-dev/vroot/configs"
)

func testLoader() *Loader {
	return &Loader{
		Vars:    Vars{CWD: "/build/hello", HOME: "/home/u"},
		Shipped: configs.FS,
	}
}

func TestLoadBytes(t *testing.T) {
	const src = `# comment
net = "loopback"

[[rule]]
path = "/"
action = "redirect"

[[rule]]
path = "/usr/"          # trailing slash is cleaned away
action = "redirect"
to = ["/sdk/usr/", "/usr"]

[[rule]]
path = "${CWD}"
action = "grant"

[[rule]]
path = "/secret"
action = "deny"

[[rule]]
path = "/hidden"
action = "deny"
errno = "ENOENT"

[[rule]]
path = "/ask"
action = "ask"
`
	p, err := testLoader().LoadBytes("x.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Net != "loopback" {
		t.Errorf("Net = %q", p.Net)
	}
	var got []string
	for _, r := range p.Rules {
		got = append(got, r.String())
	}
	want := []string{
		"/ redirect (x.toml:4)",
		"/usr redirect [/sdk/usr /usr] (x.toml:8)",
		"/build/hello grant (x.toml:13)",
		"/secret deny EACCES (x.toml:17)", // the default, made explicit
		"/hidden deny ENOENT (x.toml:21)",
		"/ask ask (x.toml:26)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	m, err := New(p.Rules)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Lookup("/secret/x"); r == nil || r.Errno != syscall.EACCES {
		t.Errorf("deny without errno: %v", r)
	}
	if r := m.Lookup("/hidden"); r == nil || r.Errno != syscall.ENOENT {
		t.Errorf("deny ENOENT: %v", r)
	}
}

func TestLoadEmpty(t *testing.T) {
	p, err := testLoader().LoadBytes("empty.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 0 || p.Net != "" {
		t.Errorf("empty profile gave %+v", p)
	}
}

func TestInlineRules(t *testing.T) {
	const src = `rule = [
  { path = "/usr", action = "grant" },
  { path = "/opt", action = "redirect", to = ["/x"] },
]`
	p, err := testLoader().LoadBytes("i.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 2 || p.Rules[0].Source != "i.toml:2" || p.Rules[1].Source != "i.toml:3" {
		t.Errorf("rules = %v", p.Rules)
	}
}

// Every error class, each in its own file, with the file, line and rule it
// must name.
func TestBadProfiles(t *testing.T) {
	dir := filepath.Join("testdata", "bad")
	in := func(f string) string { return filepath.Join(dir, f) }
	for _, tc := range []struct {
		file string
		// The error must be located at errFile:line, in rule (0: none).
		errFile string
		line    int
		rule    int
		msg     string
	}{
		{"unknown_action.toml", "", 8, 2, `rule 2 (path "/usr"): unknown action "redirct" (want grant, redirect, ask or deny)`},
		{"action_case.toml", "", 3, 1, `unknown action "Grant"`},
		{"relative_path.toml", "", 7, 2, `rule 2 (path "usr/lib"): path "usr/lib" is not absolute`},
		{"to_on_grant.toml", "", 4, 1, `"to" is only for redirect rules, and this one is grant`},
		{"errno_on_redirect.toml", "", 10, 2, `"errno" is only for deny rules, and this one is redirect`},
		{"unknown_errno.toml", "", 4, 1, `unknown errno "EIO" (want EACCES, ENOENT or EPERM)`},
		{"unknown_rule_key.toml", "", 5, 1, `unknown key "actoin" (want path, action, to or errno)`},
		{"key_case.toml", "", 2, 1, `unknown key "Path"`},
		{"unknown_top_key.toml", "", 2, 0, `unknown key "nte" (want include, net, rule, ask_with, ask_timeout or ask_default)`},
		{"syntax.toml", "", 3, 0, `TOML syntax`},
		{"cycle_a.toml", "cycle_b.toml", 3, 0, "include cycle: " + in("cycle_a.toml") + " -> " + in("cycle_b.toml") + " -> " + in("cycle_a.toml")},
		{"cycle_b.toml", "cycle_a.toml", 2, 0, "include cycle: " + in("cycle_b.toml") + " -> " + in("cycle_a.toml") + " -> " + in("cycle_b.toml")},
		{"missing_include.toml", "", 2, 0, `include "./no_such_file.toml": ` + in("no_such_file.toml") + `: no such file or directory`},
		{"missing_shipped.toml", "", 1, 0, `include "defualt": no shipped profile "defualt" (have default, sdk, strict)`},
		{"missing_path.toml", "", 5, 2, `rule 2: missing path`},
		{"missing_action.toml", "", 1, 1, `missing action`},
		{"bad_net.toml", "", 2, 0, `unknown net "lan" (want allow, loopback or none)`},
		{"unknown_var.toml", "", 6, 2, `path "${BUILDDIR}/out" uses unknown variable ${BUILDDIR}`},
		{"unknown_var_in_to.toml", "", 4, 1, `to entry "${SYSROOT}/usr" uses unknown variable ${SYSROOT}`},
		{"unterminated_var.toml", "", 2, 1, `path "${HOME/x" has a "${" without its "}"`},
		{"path_not_string.toml", "", 2, 1, `path must be a string, not an integer`},
		{"to_not_list.toml", "", 4, 1, `to must be a list of paths`},
		{"to_empty.toml", "", 4, 1, `to is empty; omit it`},
		{"to_relative.toml", "", 4, 1, `to entry "usr" is not absolute`},
		{"include_not_list.toml", "", 1, 0, `include must be a list`},
		{"rule_not_table.toml", "", 1, 0, `rule must be written [[rule]]`},
		{"inline_rules.toml", "", 5, 2, `rule 2 (path "/opt"): unknown action "grnat"`},
		{"subtable.toml", "", 5, 1, `unknown key "options"`},
		{"tricky_strings.toml", "", 12, 2, `rule 2 (path "/opt"): "errno" is only for deny rules, and this one is ask`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := testLoader().LoadFile(in(tc.file))
			if err == nil {
				t.Fatal("loaded")
			}
			var pe *ProfileError
			if !errors.As(err, &pe) {
				t.Fatalf("%T %v, want a *ProfileError", err, err)
			}
			errFile := tc.errFile
			if errFile == "" {
				errFile = tc.file
			}
			if pe.File != in(errFile) || pe.Line != tc.line || pe.Rule != tc.rule {
				t.Errorf("error at %s:%d rule %d, want %s:%d rule %d (%v)", pe.File, pe.Line, pe.Rule, in(errFile), tc.line, tc.rule, err)
			}
			prefix := fmt.Sprintf("%s:%d: ", in(errFile), tc.line)
			if tc.rule > 0 {
				prefix += fmt.Sprintf("rule %d", tc.rule)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.msg) {
				t.Errorf("error:\n  %s\nwant it to start with %q and contain\n  %s", msg, prefix, tc.msg)
			}
		})
	}
	// Every file in testdata/bad must be bad: a new one without a case
	// above would test nothing.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := testLoader().LoadFile(in(e.Name())); err == nil {
			t.Errorf("%s loads", e.Name())
		}
	}
}

func TestProfileErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    ProfileError
		want string
	}{
		{ProfileError{File: "a.toml", Line: 7, Rule: 2, Path: "/usr", Msg: "m"}, `a.toml:7: rule 2 (path "/usr"): m`},
		{ProfileError{File: "a.toml", Line: 7, Rule: 2, Msg: "m"}, `a.toml:7: rule 2: m`},
		{ProfileError{File: "a.toml", Line: 3, Msg: "m"}, `a.toml:3: m`},
		{ProfileError{File: "a.toml", Msg: "m"}, `a.toml: m`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestIncludeChain(t *testing.T) {
	dir := filepath.Join("testdata", "include")
	p, err := testLoader().LoadFile(filepath.Join(dir, "top.toml"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := testLoader().LoadShipped("default")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Rules[len(def.Rules):] {
		got = append(got, r.String())
	}
	want := []string{
		"/sibling ask (testdata/include/sibling.toml:1)",
		"/leaf redirect [/build/hello/leaf] (testdata/include/sub/leaf.toml:5)",
		"/usr grant (testdata/include/mid.toml:4)",
		"/usr deny EACCES (testdata/include/top.toml:5)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules after default's:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i, r := range p.Rules[:len(def.Rules)] {
		if r.Source != def.Rules[i].Source {
			t.Errorf("rule %d: %s, want default's %s", i, r.Source, def.Rules[i].Source)
		}
	}
	if p.Net != "loopback" {
		t.Errorf("Net = %q, want the including file's", p.Net)
	}
	m, err := New(p.Rules)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Lookup("/usr/bin/cc"); r == nil || r.Action != Deny {
		t.Errorf("the including file's rule must win its tie: %v", r)
	}

	// Net: a file's own setting beats its includes', and of includes the
	// last one that sets it wins.
	mid, err := testLoader().LoadFile(filepath.Join(dir, "mid.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if mid.Net != "none" {
		t.Errorf("mid Net = %q, want none", mid.Net)
	}
	leafOnly, err := testLoader().LoadBytes(filepath.Join(dir, "x.toml"), []byte(`include = ["./mid.toml", "sub/leaf.toml"]`))
	if err != nil {
		t.Fatal(err)
	}
	if leafOnly.Net != "allow" {
		t.Errorf("Net = %q, want the last include's (allow)", leafOnly.Net)
	}
}

func TestIncludeTwiceIsNoCycle(t *testing.T) {
	p, err := testLoader().LoadFile(filepath.Join("testdata", "include", "diamond.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 2 {
		t.Errorf("%d rules, want sibling's twice", len(p.Rules))
	}
}

func TestIncludeCycleThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.toml")
	if err := os.WriteFile(a, []byte(`include = ["./link.toml"]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.toml", filepath.Join(dir, "link.toml")); err != nil {
		t.Fatal(err)
	}
	_, err := testLoader().LoadFile(a)
	if err == nil || !strings.Contains(err.Error(), "include cycle: "+a+" -> "+filepath.Join(dir, "link.toml")) {
		t.Errorf("err = %v", err)
	}
}

func TestIncludeSelf(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "self.toml")
	if err := os.WriteFile(f, []byte("\n\ninclude = [\"self.toml\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := testLoader().LoadFile(f)
	want := fmt.Sprintf("%s:3: include cycle: %s -> %s", f, f, f)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// Shipped profiles include each other by name, and by relative path within
// the shipped set, never from the host.
func TestShippedIncludes(t *testing.T) {
	fsys := fstest.MapFS{
		"base.toml":      {Data: []byte("net = \"none\"\n[[rule]]\npath = \"/\"\naction = \"redirect\"\n")},
		"top.toml":       {Data: []byte("include = [\"base\", \"./sub/more.toml\"]\n")},
		"sub/more.toml":  {Data: []byte("include = [\"../base.toml\"]\n[[rule]]\npath = \"/more\"\naction = \"grant\"\n")},
		"escape.toml":    {Data: []byte("include = [\"../../etc/passwd.toml\"]\n")},
		"abs.toml":       {Data: []byte("include = [\"/etc/x.toml\"]\n")},
		"loop.toml":      {Data: []byte("include = [\"loop2\"]\n")},
		"loop2.toml":     {Data: []byte("include = [\"loop\"]\n")},
		"notanetry.toml": {Data: []byte("include = [\"\"]\n")},
	}
	l := &Loader{Shipped: fsys}
	p, err := l.LoadShipped("top")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Rules {
		got = append(got, r.String())
	}
	want := []string{
		"/ redirect (<shipped>/base.toml:2)",
		"/ redirect (<shipped>/base.toml:2)",
		"/more grant (<shipped>/sub/more.toml:2)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for name, want := range map[string]string{
		"escape":     `<shipped>/escape.toml:1: include "../../etc/passwd.toml": "../../etc/passwd.toml" is not a valid shipped profile name`,
		"abs":        `<shipped>/abs.toml:1: include "/etc/x.toml": a shipped profile can only include shipped profiles`,
		"loop":       `<shipped>/loop2.toml:1: include cycle: <shipped>/loop.toml -> <shipped>/loop2.toml -> <shipped>/loop.toml`,
		"notanetry":  `<shipped>/notanetry.toml:1: include "": empty name`,
		"nonesuch":   `<shipped>/nonesuch.toml: no shipped profile "nonesuch" (have abs, base, escape, loop, loop2, notanetry, top)`,
		"../escapes": `<shipped>/../escapes.toml: "../escapes.toml" is not a valid shipped profile name`,
	} {
		_, err := l.LoadShipped(name)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("LoadShipped(%q) = %v\nwant %s", name, err, want)
		}
	}
	if _, err := (&Loader{}).LoadShipped("default"); err == nil || !strings.Contains(err.Error(), "no shipped profiles") {
		t.Errorf("nil Shipped: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, make([]byte, maxProfileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	inc := filepath.Join(dir, "inc.toml")
	if err := os.WriteFile(inc, []byte(`include = ["/dev/zero"]`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "none.toml"), filepath.Join(dir, "none.toml") + ": no such file or directory"},
		{dir, dir + ": is a directory"},
		{fifo, fifo + ": not a regular file"}, // must not hang waiting for a writer
		{big, big + ": larger than"},
		{inc, inc + `:1: include "/dev/zero": /dev/zero: not a regular file`},
	} {
		_, err := testLoader().LoadFile(tc.file)
		var pe *ProfileError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("LoadFile(%s) = %v, want a *ProfileError starting %q", tc.file, err, tc.want)
		}
	}
}

// Files that each include the next one twice form no cycle but would be
// read 2^n times; the load must stop instead.
func TestIncludeExplosion(t *testing.T) {
	dir := t.TempDir()
	const n = 20
	for i := 0; i < n; i++ {
		next := fmt.Sprintf("./f%d.toml", i+1)
		data := fmt.Sprintf("include = [%q, %q]\n", next, next)
		if i == n-1 {
			data = ""
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.toml", i)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := testLoader().LoadFile(filepath.Join(dir, "f0.toml"))
	if err == nil || !strings.Contains(err.Error(), "profile files loaded") {
		t.Errorf("err = %v", err)
	}
}

func TestExpand(t *testing.T) {
	vars := Vars{CWD: "/build/hello", HOME: "/home/u", SDK: "/opt/sdk/"}
	for _, tc := range []struct {
		vars Vars
		in   string
		want string // result, or "error: substring"
	}{
		{vars, "/usr", "/usr"},
		{vars, "/usr/", "/usr"},
		{vars, "/usr//lib/./x/../y", "/usr/lib/y"},
		{vars, "/", "/"},
		{vars, "${CWD}", "/build/hello"},
		{vars, "${CWD}/", "/build/hello"},
		{vars, "${CWD}/../other", "/build/other"},
		{vars, "${HOME}/.cache", "/home/u/.cache"},
		{vars, "${TMPDIR}/x", "/tmp/x"},
		{Vars{TMPDIR: "/var/tmp/u"}, "${TMPDIR}", "/var/tmp/u"},
		{vars, "${SDK}/usr/include", "/opt/sdk/usr/include"},
		{vars, "${HOME}${CWD}", "/home/u/build/hello"},
		{vars, "/a$b/${HOME}", "/a$b/home/u"},
		{vars, "/literal$HOME", "/literal$HOME"},
		{vars, "/a/}/b", "/a/}/b"},
		{vars, "", "error: is not absolute"},
		{vars, "usr", "error: is not absolute"},
		{vars, "${FOO}", "error: uses unknown variable ${FOO}"},
		{vars, "${}", "error: uses unknown variable ${}"},
		{vars, "${cwd}", "error: uses unknown variable ${cwd}"},
		{vars, "/x/${CWD", `error: has a "${" without its "}"`},
		{Vars{CWD: "/b"}, "${HOME}/.cache", "error: uses ${HOME}, which is empty"},
		{Vars{HOME: "/h"}, "${CWD}", "error: uses ${CWD}, which is empty"},
		{Vars{}, "${SDK}/usr", "error: uses ${SDK}, but no SDK was given"},
		{Vars{CWD: "rel/dir"}, "${CWD}/x", `error: expands to "rel/dir/x", which is not absolute`},
		{vars, "/a\x00b", "error: contains a NUL byte"},
	} {
		l := &Loader{Vars: tc.vars}
		got, err := l.expand(tc.in)
		if want, isErr := strings.CutPrefix(tc.want, "error: "); isErr {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("expand(%q) = %q, %v; want error %q", tc.in, got, err, want)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// Variables in a whole profile, through LoadBytes: in path and in to.
func TestVariablesInProfile(t *testing.T) {
	l := &Loader{Vars: Vars{CWD: "/w", HOME: "/h", TMPDIR: "/scratch", SDK: "/sdk"}}
	p, err := l.LoadBytes("v.toml", []byte(`
[[rule]]
path = "${TMPDIR}"
action = "grant"
[[rule]]
path = "${HOME}/src/../.cache/"
action = "grant"
[[rule]]
path = "/usr"
action = "redirect"
to = ["${SDK}/usr", "${CWD}/overlay/usr"]
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Rules {
		got = append(got, r.Path+" "+strings.Join(r.HostPaths(), ","))
	}
	want := []string{"/scratch /scratch", "/h/.cache /h/.cache", "/usr /sdk/usr,/w/overlay/usr"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLocate(t *testing.T) {
	const src = `# header
include = [
  "a",
  "b",
] # trailing
"net" = 'none'

[[rule]]   # 1
path = """
[[rule]]
action = "x"
"""
action = "grant"
to.x = 1

[[ rule ]]
  'path' = "/b" # [[rule]]
action = """a\"""b"""""
[rule.sub]
k = 1

[other.table]
x = { path = "/not/a/rule", y = [1, 2] }
`
	loc := locate(src)
	if got := loc.topLine("include"); got != 2 {
		t.Errorf("include at %d", got)
	}
	if got := loc.topLine("net"); got != 6 {
		t.Errorf("net at %d", got)
	}
	if got := loc.topLine("other"); got != 22 {
		t.Errorf("other at %d", got)
	}
	if len(loc.rules) != 2 {
		t.Fatalf("%d rules: %+v", len(loc.rules), loc.rules)
	}
	for _, c := range []struct {
		rule int
		key  string
		line int
	}{
		{0, "", 8}, {0, "path", 9}, {0, "action", 13}, {0, "to", 14},
		{1, "", 16}, {1, "path", 17}, {1, "action", 18}, {1, "sub", 19}, {1, "k", 16},
	} {
		if got := loc.keyLine(c.rule, c.key); got != c.line {
			t.Errorf("rule %d key %q at %d, want %d", c.rule, c.key, got, c.line)
		}
	}
	if loc.keyLine(5, "path") != 0 || loc.ruleLine(-1) != 0 {
		t.Error("out of range rule has a line")
	}
}

func TestProfileAskSettings(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "base.toml"), []byte("ask_with = \"tty\"\nask_timeout = \"10s\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "top.toml"), []byte("include = [\"base.toml\"]\nask_with = \"socket:/run/pm.sock\"\nask_default = \"allow\"\n"), 0o644)
	l := &Loader{}
	p, err := l.LoadFile(filepath.Join(dir, "top.toml"))
	if err != nil {
		t.Fatal(err)
	}
	// Key by key, the including file wins.
	if p.Ask.With != "socket:/run/pm.sock" || p.Ask.Timeout != 10*time.Second || p.Ask.Default != "allow" || p.Ask.From != filepath.Join(dir, "top.toml") {
		t.Fatalf("Ask = %+v", p.Ask)
	}
	for body, want := range map[string]string{
		"ask_with = \"maybe\"\n":      `:1: ask_with: unknown ask handler "maybe"`,
		"\nask_with = 3\n":            ":2: ask_with must be a string",
		"ask_timeout = \"-1s\"\n":     `:1: ask_timeout "-1s": want a positive duration`,
		"ask_default = \"perhaps\"\n": `:1: ask_default "perhaps": want allow or deny`,
		"ask_with = \"exec:\"\n":      ":1: ask_with: exec: empty command",
	} {
		f := filepath.Join(dir, "bad.toml")
		os.WriteFile(f, []byte(body), 0o644)
		_, err := l.LoadFile(f)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
