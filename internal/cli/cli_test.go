package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vroot-dev/vroot"
	"github.com/vroot-dev/vroot/filemap"
)

// mainResult is what one call of Main did.
type mainResult struct {
	code           int
	stdout, stderr string
}

// runMain calls Main with files for stdio, as the real main does. It never
// reaches the tracer: every case here stops before vroot.Run (integration
// tests run real commands).
func runMain(t *testing.T, args ...string) mainResult {
	t.Helper()
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		mustNil(t, err)
		t.Cleanup(func() { f.Close() })
		return f
	}
	stdin, err := os.Open(os.DevNull)
	mustNil(t, err)
	defer stdin.Close()
	stdout, stderr := open("stdout"), open("stderr")
	code := Main(context.Background(), args, stdin, stdout, stderr)
	read := func(f *os.File) string {
		b, err := os.ReadFile(f.Name())
		mustNil(t, err)
		return string(b)
	}
	return mainResult{code: code, stdout: read(stdout), stderr: read(stderr)}
}

// inTempHome makes the plan's inputs predictable: a fresh cwd and $HOME.
func inTempHome(t *testing.T) (cwd, home string) {
	t.Helper()
	cwd = t.TempDir()
	home = t.TempDir()
	t.Chdir(cwd)
	t.Setenv("HOME", home)
	t.Setenv("TMPDIR", "")
	// Resolve symlinks in the temp dir so that Getwd and cwd agree.
	wd, err := os.Getwd()
	mustNil(t, err)
	return wd, home
}

func TestParseArgs(t *testing.T) {
	type want struct {
		cmd     string
		args    []string
		configs []string
		rules   []ruleFlag
		profile string
	}
	for _, tc := range []struct {
		name string
		args []string
		want want
		// check, if set, inspects what want does not cover.
		check func(t *testing.T, o *options)
	}{
		{name: "command flags belong to it", args: []string{"make", "-j2"},
			want: want{args: []string{"make", "-j2"}}},
		{name: "dashdash", args: []string{"--", "ls", "-l"},
			want: want{args: []string{"ls", "-l"}}},
		{name: "vroot flags after the command are the command's",
			args: []string{"--grant", "/a", "make", "--grant", "/b", "--", "-v"},
			want: want{args: []string{"make", "--grant", "/b", "--", "-v"}, rules: []ruleFlag{{"--grant", "/a"}}}},
		{name: "second dashdash belongs to the command", args: []string{"--", "sh", "--", "x"},
			want: want{args: []string{"sh", "--", "x"}}},
		{name: "single dash is a word", args: []string{"-"},
			want: want{args: []string{"-"}}},
		{name: "rule flags keep their order",
			args: []string{"--grant", "rel", "--deny", "/b", "-map", "/c=/d", "--hide=e", "--ask", "/f", "--grant", "/g", "true"},
			want: want{args: []string{"true"}, rules: []ruleFlag{
				{"--grant", "rel"}, {"--deny", "/b"}, {"--map", "/c=/d"}, {"--hide", "e"}, {"--ask", "/f"}, {"--grant", "/g"},
			}}},
		{name: "map splits at the first =", args: []string{"--map=/a=/b=c", "x"},
			want: want{args: []string{"x"}, rules: []ruleFlag{{"--map", "/a=/b=c"}}}},
		{name: "configs keep their order", args: []string{"--config", "b.toml", "--config=a.toml", "x"},
			want: want{args: []string{"x"}, configs: []string{"b.toml", "a.toml"}}},
		{name: "profile", args: []string{"--profile", "strict", "x"},
			want: want{args: []string{"x"}, profile: "strict"}},
		{name: "every flag", args: []string{
			"--stage", "st", "--sdk", "/sdk", "--fakeroot", "--output", "o.tar", "--report", "r.json",
			"--net", "none", "--strict", "-v", "--log-level", "trace", "--log-format", "json", "cc"},
			want: want{args: []string{"cc"}},
			check: func(t *testing.T, o *options) {
				checkEq(t, o.stage, "st")
				checkEq(t, o.sdk, "/sdk")
				checkf(t, o.fakeroot && o.strict && o.verbose, "bools not set")
				checkEq(t, o.output, "o.tar")
				checkEq(t, o.report, "r.json")
				checkEq(t, o.net, "none")
				checkEq(t, o.logLevel, "trace")
				checkEq(t, o.logFormat, "json")
				for _, f := range []string{"stage", "sdk", "fakeroot", "output", "report", "net", "strict", "v", "log-level", "log-format"} {
					checkf(t, o.given[f], "%s not given", f)
				}
			}},
		{name: "bool flag with a value", args: []string{"--fakeroot=false", "x"},
			want:  want{args: []string{"x"}},
			check: func(t *testing.T, o *options) { checkf(t, !o.fakeroot, "fakeroot set") }},

		// Subcommands.
		{name: "check", args: []string{"check"}, want: want{cmd: cmdCheck}},
		{name: "check with flags after it",
			args: []string{"--profile", "strict", "check", "--config", "a.toml", "--grant", "/x", "--config", "b.toml"},
			want: want{cmd: cmdCheck, profile: "strict", configs: []string{"a.toml", "b.toml"}, rules: []ruleFlag{{"--grant", "/x"}}}},
		{name: "dashdash makes check a command", args: []string{"--", "check"},
			want: want{args: []string{"check"}}},
		{name: "flag then dashdash then check", args: []string{"-v", "--", "check", "-x"},
			want: want{args: []string{"check", "-x"}}},
		{name: "dashdash as a flag value is not a terminator", args: []string{"--config", "--", "check"},
			want: want{cmd: cmdCheck, configs: []string{"--"}}},
		{name: "dashdash after a bool flag is", args: []string{"--fakeroot", "--", "check"},
			want: want{args: []string{"check"}}},
		{name: "dashdash after flag=value is", args: []string{"--config=--", "--", "check"},
			want: want{args: []string{"check"}, configs: []string{"--"}}},
		{name: "check then dashdash", args: []string{"check", "--"}, want: want{cmd: cmdCheck}},
		{name: "version", args: []string{"version"}, want: want{cmd: cmdVersion}},
		{name: "help", args: []string{"help"}, want: want{cmd: cmdHelp}},
		{name: "-h", args: []string{"-h"}, want: want{cmd: cmdHelp}},
		{name: "--help", args: []string{"--help"}, want: want{cmd: cmdHelp}},
		{name: "-h before a command", args: []string{"-h", "make"}, want: want{cmd: cmdHelp}},
		{name: "-h after check", args: []string{"check", "-h", "stray"}, want: want{cmd: cmdHelp}},
		{name: "-h after the command is the command's", args: []string{"make", "-h"},
			want: want{args: []string{"make", "-h"}}},
		{name: "pack keeps its words", args: []string{"pack", "st", "-o", "x.tar"},
			want: want{cmd: "pack", args: []string{"st", "-o", "x.tar"}}},
		{name: "dashdash makes pack a command", args: []string{"--", "pack"},
			want: want{args: []string{"pack"}}},
		{name: "no command", args: nil, want: want{}},
		{name: "only dashdash", args: []string{"--"}, want: want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseArgs(tc.args)
			mustNil(t, err)
			w := tc.want
			if w.profile == "" {
				w.profile = "default"
			}
			checkEq(t, o.cmd, w.cmd)
			checkSlice(t, nilIfEmpty(o.args), w.args)
			checkSlice(t, nilIfEmpty(o.configs), w.configs)
			checkf(t, slices.Equal(o.rules, w.rules), "rules %v, want %v", o.rules, w.rules)
			checkEq(t, o.profile, w.profile)
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus", "make"}, "flag provided but not defined: -bogus"},
		{[]string{"-j2", "make"}, "flag provided but not defined: -j2"},
		{[]string{"--stage"}, "flag needs an argument: -stage"},
		{[]string{"--map", "/usr", "x"}, "--map /usr: want GUEST=HOST"},
		{[]string{"--map", "usr=/sdk/usr", "x"}, `--map usr=/sdk/usr: GUEST "usr" is not an absolute path`},
		{[]string{"--map", "/usr=sdk/usr", "x"}, `--map /usr=sdk/usr: HOST "sdk/usr" is not an absolute path`},
		{[]string{"--map", "=/x", "x"}, `GUEST "" is not an absolute path`},
		{[]string{"--grant", "", "x"}, "empty path"},
		{[]string{"--profile", "", "x"}, "--profile: empty name"},
		{[]string{"--profile", "a", "--profile", "b", "x"}, `given twice ("a", then "b")`},
		{[]string{"--stage", "a", "check", "--stage", "b"}, "given twice"},
		{[]string{"-v", "-q", "x"}, "-v and -q"},
		{[]string{"--log-level", "loud", "x"}, `--log-level "loud"`},
		{[]string{"--log-format", "xml", "x"}, `--log-format "xml"`},
		{[]string{"--net", "wifi", "x"}, `--net "wifi"`},
		{[]string{"check", "extra"}, `check: unexpected argument "extra"`},
		{[]string{"check", "--", "make"}, `check: unexpected argument "make"`},
		{[]string{"version", "x"}, `version: unexpected argument "x"`},
		{[]string{"help", "x"}, `help: unexpected argument "x"`},
		{[]string{"check", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseArgs(tc.args)
			mustErrContains(t, err, tc.want)
		})
	}
}

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "warn"},
		{[]string{"-v"}, "debug"},
		{[]string{"-q"}, "error"},
		{[]string{"-v", "--log-level", "trace"}, "trace"},
		{[]string{"-q", "--log-level", "info"}, "info"},
	} {
		o, err := parseArgs(append(tc.args, "x"))
		mustNil(t, err)
		checkEq(t, strings.ToLower(o.level().String()), tc.want, "%v", tc.args)
	}
}

// The usage text and the FlagSet must describe the same flags.
func TestFlagDocs(t *testing.T) {
	fs := newFlagSet(&options{})
	var defined []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "help" { // documented with -h
			defined = append(defined, f.Name)
		}
	})
	var documented []string
	for _, d := range flagDocs {
		documented = append(documented, d.name)
	}
	slices.Sort(defined)
	slices.Sort(documented)
	mustSlice(t, defined, documented)
}

func TestMakePlan(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.toml", `
net = "loopback"
[[rule]]
path = "/opt"
action = "grant"
[[rule]]
path = "/srv"
action = "grant"
`)
	write(t, dir, "b.toml", `
[[rule]]
path = "/opt"
action = "deny"
`)
	o, err := parseArgs([]string{
		"--config", filepath.Join(dir, "a.toml"), "--config", filepath.Join(dir, "b.toml"),
		"--grant", "sub/../build", "--hide", "/srv", "--map", "/usr/include=/sdk/usr/include",
		"--deny", "/srv/x/", "--grant", "/tmp", "--ask", "q", "x",
	})
	mustNil(t, err)
	p, err := makePlan(o, env{cwd: "/home/u/src", home: "/home/u"})
	mustNil(t, err)
	checkEq(t, p.net, "loopback")
	checkEq(t, p.netFrom, "--config "+filepath.Join(dir, "a.toml"))

	byPath := map[string]filemap.Rule{}
	for _, r := range p.m.Rules() {
		byPath[r.Path] = r
	}
	for _, tc := range []struct {
		path   string
		action filemap.Action
		errno  syscall.Errno
		to     []string
		source string
	}{
		{"/opt", filemap.Deny, syscall.EACCES, nil, filepath.Join(dir, "b.toml") + ":2"}, // b after a
		{"/srv", filemap.Deny, syscall.ENOENT, nil, "--hide /srv"},                       // flags after configs
		{"/srv/x", filemap.Deny, syscall.EACCES, nil, "--deny /srv/x/"},
		{"/home/u/src/build", filemap.Grant, 0, nil, "--grant sub/../build"}, // relative: from the cwd
		{"/home/u/src/q", filemap.Ask, 0, nil, "--ask q"},
		{"/usr/include", filemap.Redirect, 0, []string{"/sdk/usr/include"}, "--map /usr/include=/sdk/usr/include"},
		{"/tmp", filemap.Grant, 0, nil, "--grant /tmp"}, // overrides the profile's
		{"/home/u/.cache", filemap.Grant, 0, nil, "<shipped>/default.toml:"},
		{"/", filemap.Redirect, 0, nil, "<shipped>/default.toml:"},
	} {
		r, ok := byPath[tc.path]
		if !checkf(t, ok, "no rule for %s", tc.path) {
			continue
		}
		checkEq(t, r.Action, tc.action, tc.path)
		checkEq(t, r.Errno, tc.errno, tc.path)
		checkSlice(t, r.To, tc.to, tc.path)
		checkf(t, strings.HasPrefix(r.Source, tc.source), "%s: source %q", tc.path, r.Source)
	}

	// --net overrides the profiles.
	o, err = parseArgs([]string{"--config", filepath.Join(dir, "a.toml"), "--net", "allow", "x"})
	mustNil(t, err)
	p, err = makePlan(o, env{cwd: "/b", home: "/h"})
	mustNil(t, err)
	checkEq(t, p.net, "allow")
	checkEq(t, p.netFrom, "--net")
}

func TestPrint(t *testing.T) {
	m, err := filemap.New([]filemap.Rule{
		{Path: "/", Action: filemap.Redirect, Source: "default.toml:3"},
		{Path: "/tmp", Action: filemap.Grant, Source: "default.toml:12"},
		{Path: "/usr/include", Action: filemap.Redirect, To: []string{"/sdk/usr/include"}, Source: "--map /usr/include=/sdk/usr/include"},
		{Path: "/usr/lib", Action: filemap.Redirect, To: []string{"/sdk/usr/lib", "/usr/lib"}, Source: "sdk.toml:9"},
		{Path: "/secret", Action: filemap.Deny, Errno: syscall.ENOENT, Source: "--hide /secret"},
		{Path: "/etc/shadow", Action: filemap.Deny, Source: "--deny /etc/shadow"},
	})
	mustNil(t, err)
	var b strings.Builder
	mustNil(t, (&plan{m: m, net: "allow"}).print(&b))
	// Deeper first; equally deep, by name.
	want := `/etc/shadow    deny EACCES                          (--deny /etc/shadow)
/usr/include   redirect -> /sdk/usr/include         (--map /usr/include=/sdk/usr/include)
/usr/lib       redirect -> /sdk/usr/lib, /usr/lib   (sdk.toml:9)
/secret        deny ENOENT                          (--hide /secret)
/tmp           grant                                (default.toml:12)
/              redirect                             (default.toml:3)
net: allow
`
	mustEq(t, b.String(), want)
}

func TestMainCheckDefault(t *testing.T) {
	cwd, home := inTempHome(t)
	r := runMain(t, "check", "--profile", "default")
	mustEq(t, r.code, 0, r.stderr)
	mustEq(t, r.stderr, "")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	checkEq(t, lines[len(lines)-1], "net: allow")
	checkf(t, strings.HasPrefix(lines[len(lines)-2], "/ "), "the root rule comes last: %q", lines[len(lines)-2])
	for _, want := range []string{cwd, home + "/.cache", "/tmp", "/dev", "/proc"} {
		found := false
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) >= 3 && f[0] == want {
				found = true
				checkEq(t, f[1], "grant", l)
				checkf(t, strings.HasPrefix(f[2], "(<shipped>/default.toml:"), "%s", l)
			}
		}
		checkf(t, found, "no rule for %s in\n%s", want, r.stdout)
	}
	// No flags is the same as --profile default.
	r2 := runMain(t, "check")
	checkEq(t, r2.stdout, r.stdout)
}

func TestMainCheckFlags(t *testing.T) {
	cwd, _ := inTempHome(t)
	r := runMain(t, "check", "--map", "/usr/include=/sdk/usr/include", "--hide", "/secret", "--grant", "out")
	mustEq(t, r.code, 0, r.stderr)
	for _, want := range []string{
		"/usr/include   redirect -> /sdk/usr/include   (--map /usr/include=/sdk/usr/include)",
		"/secret deny ENOENT (--hide /secret)",
		cwd + "/out grant (--grant out)",
	} {
		found := false
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Join(strings.Fields(l), " ") == strings.Join(strings.Fields(want), " ") {
				found = true
			}
		}
		checkf(t, found, "no line %q in\n%s", want, r.stdout)
	}
}

func TestMainCheckStrict(t *testing.T) {
	inTempHome(t)
	r := runMain(t, "--profile", "strict", "check")
	mustEq(t, r.code, 0, r.stderr)
	checkContains(t, r.stdout, "\n/   ")
	checkf(t, slices.ContainsFunc(strings.Split(r.stdout, "\n"), func(l string) bool {
		return strings.Join(strings.Fields(l), " ") == "/ deny ENOENT (<shipped>/strict.toml:11)"
	}), "no deny rule for / in\n%s", r.stdout)
	checkContains(t, r.stdout, "net: none\n")
	// Runnable: nothing to flag.
	checkEq(t, r.stderr, "")
}

func TestMainBadProfiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		// want are in the message, besides the file's name.
		want []string
	}{
		{"unknown action", map[string]string{"p.toml": okRule + "[[rule]]\npath = \"/x\"\naction = \"allow\"\n"},
			[]string{"p.toml:6:", `rule 2 (path "/x")`, `unknown action "allow"`}},
		{"relative path", map[string]string{"p.toml": okRule + "[[rule]]\npath = \"x\"\naction = \"grant\"\n"},
			[]string{"p.toml:5:", `rule 2 (path "x")`, "not absolute"}},
		{"to on grant", map[string]string{"p.toml": okRule + "[[rule]]\npath = \"/x\"\naction = \"grant\"\nto = [\"/y\"]\n"},
			[]string{"p.toml:7:", `rule 2 (path "/x")`, `"to" is only for redirect rules`}},
		{"unknown errno", map[string]string{"p.toml": okRule + "[[rule]]\npath = \"/x\"\naction = \"deny\"\nerrno = \"EIO\"\n"},
			[]string{"p.toml:7:", `rule 2 (path "/x")`, `unknown errno "EIO"`}},
		{"unknown key", map[string]string{"p.toml": okRule + "[[rule]]\npath = \"/x\"\naction = \"grant\"\nmode = \"ro\"\n"},
			[]string{"p.toml:7:", `rule 2 (path "/x")`, `unknown key "mode"`}},
		{"syntax error", map[string]string{"p.toml": okRule + "[[rule]\npath = \"/x\"\n"},
			[]string{"p.toml:", "TOML syntax"}},
		{"include cycle", map[string]string{
			"p.toml": "include = [\"q.toml\"]\n" + okRule,
			"q.toml": "\ninclude = [\"p.toml\"]\n",
		}, []string{"q.toml:2:", "include cycle", "p.toml -> ", "q.toml -> ", "p.toml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inTempHome(t)
			dir := t.TempDir()
			for name, text := range tc.files {
				write(t, dir, name, text)
			}
			file := filepath.Join(dir, "p.toml")
			for _, args := range [][]string{
				{"check", "--config", file},
				{"--config", file, "check"},
			} {
				r := runMain(t, args...)
				checkEq(t, r.code, 125)
				checkEq(t, r.stdout, "")
				checkf(t, strings.HasPrefix(r.stderr, "vroot: "+dir), "%s", r.stderr)
				checkEq(t, strings.Count(r.stderr, "\n"), 1, "one line: %q", r.stderr)
				for _, w := range tc.want {
					checkContains(t, r.stderr, w)
				}
			}
		})
	}
}

const okRule = "[[rule]]\npath = \"/ok\"\naction = \"grant\"\n"

func TestMainErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus", "make"}, "vroot: flag provided but not defined: -bogus (see vroot help)\n"},
		{"unknown flag after check", []string{"check", "-x"}, "vroot: flag provided but not defined: -x (see vroot help)\n"},
		{"map malformed", []string{"--map", "/usr", "make"}, "vroot: --map /usr: want GUEST=HOST (see vroot help)\n"},
		{"map relative", []string{"--map", "/usr=sdk", "check"}, `vroot: --map /usr=sdk: HOST "sdk" is not an absolute path (see vroot help)` + "\n"},
		{"no such profile", []string{"--profile", "nosuch", "check"}, "vroot: <shipped>/nosuch.toml: no shipped profile \"nosuch\" (have default, sdk, strict)\n"},
		{"no such config", []string{"--config", "/nonexistent.toml", "check"}, "vroot: /nonexistent.toml: no such file or directory\n"},
		{"unclean map path", []string{"--map", "/usr/../x=/y", "check"}, `(--map /usr/../x=/y): path: "/usr/../x" is not clean`},
		{"pack without a stage", []string{"pack"}, "vroot: pack: usage: vroot pack STAGE -o FILE"},
		{"pack without an archive", []string{"pack", "st"}, "vroot: pack: no archive named: give -o FILE\n"},
		{"pack two stages", []string{"pack", "st", "-o", "x.tar", "st2"}, `vroot: pack: unexpected argument "st2"` + "\n"},
		{"pack unknown extension", []string{"pack", "st", "-o", "x.zip"}, `vroot: cannot tell the archive format of "x.zip": name it .tar, .tar.gz or .tar.zst, or give --format` + "\n"},
		{"pack unknown format", []string{"pack", "st", "-o", "x.tar", "--format", "zip"}, `vroot: unknown archive format "zip": want tar, tar.gz or tar.zst` + "\n"},
		{"pack of a non-stage", []string{"pack", "/", "-o", "x.tar"}, "vroot: pack /: / is not a vroot stage\n"},
		{"output unknown extension", []string{"--output", "x.tar.xz", "true"}, `vroot: --output: cannot tell the archive format of "x.tar.xz"`},
		{"pack into a missing directory", []string{"pack", "ST", "-o", "/nonexistent/x.tar"}, "vroot: /nonexistent/x.tar: no such file or directory\n"},
		{"mtree without output", []string{"--mtree", "m", "true"}, "vroot: --mtree and --allow-deletions go with --output (see vroot help)\n"},
		{"status needs a stage", []string{"status"}, "vroot: status: usage: vroot status [--json] STAGE\n"},
		{"status of a non-stage", []string{"status", "/"}, "vroot: / is not a vroot stage\n"},
		{"sdk without subcommand", []string{"sdk"}, "vroot: sdk: want check or create (see vroot sdk help)\n"},
		{"sdk missing dir", []string{"--sdk", "/nonexistent-sdk", "check"}, "vroot: --sdk /nonexistent-sdk: no such file or directory\n"},
		{"deps needs a report", []string{"deps"}, "vroot: deps: usage: vroot deps [--json] [--root DIR] REPORT\n"},
		{"deps of a missing report", []string{"deps", "/nonexistent.json"}, "vroot: open /nonexistent.json: no such file or directory\n"},
		{"ask-with unknown", []string{"--ask-with", "maybe", "true"}, `vroot: --ask-with: unknown ask handler "maybe" (want deny, grant, tty, exec:CMD or socket:PATH) (see vroot help)` + "\n"},
		{"ask-with empty exec", []string{"--ask", "/x", "--ask-with", "exec:", "check"}, "vroot: --ask-with: exec: empty command (see vroot help)\n"},
		{"ask-timeout", []string{"--ask-timeout", "0s", "true"}, `vroot: --ask-timeout "0s": want a positive duration such as 30s or 500ms (see vroot help)` + "\n"},
		{"ask-timeout not a duration", []string{"--ask-timeout", "30", "true"}, `--ask-timeout "30"`},
		{"ask-default", []string{"--ask-default", "yes", "true"}, `vroot: --ask-default "yes": want allow or deny (see vroot help)` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inTempHome(t)
			args := slices.Clone(tc.args)
			for i, a := range args {
				if a == "ASK" {
					args[i] = write(t, t.TempDir(), "ask.toml", "[[rule]]\npath = \"/x\"\naction = \"ask\"\n")
				}
				if a == "ST" {
					args[i] = filepath.Join(t.TempDir(), "st")
					cliStage(t, args[i], "")
				}
			}
			r := runMain(t, args...)
			checkEq(t, r.code, 125)
			checkEq(t, r.stdout, "")
			checkContains(t, r.stderr, tc.want)
			checkEq(t, strings.Count(r.stderr, "\n"), 1, "one line: %q", r.stderr)
		})
	}
}

func TestMainNoCommand(t *testing.T) {
	for _, args := range [][]string{nil, {"--"}, {"-v"}, {"-v", "--"}} {
		r := runMain(t, args...)
		checkEq(t, r.code, 125, "%v", args)
		checkEq(t, r.stdout, "", "%v", args)
		checkf(t, strings.HasPrefix(r.stderr, "vroot: no command given\n\nUsage:\n"), "%v: %q", args, r.stderr)
	}
}

func TestMainHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}, {"check", "-h"}, {"--profile", "x", "-h", "make"}} {
		r := runMain(t, args...)
		checkEq(t, r.code, 0, "%v", args)
		checkEq(t, r.stderr, "", "%v", args)
		checkEq(t, strings.Count(r.stdout, "Usage:"), 1, "%v: printed once", args)
		for _, w := range []string{"vroot check", "vroot version", "--map GUEST=HOST", "--stage DIR", "-v ", "--log-format FORMAT", "default, sdk, strict"} {
			checkContains(t, r.stdout, w, "%v", args)
		}
	}
	r := runMain(t, "help")
	checkContains(t, r.stdout, "--stage DIR          staging directory that receives the build's writes\n")
	checkContains(t, r.stdout, "--fakeroot           make the build believe it runs as root\n")
}

func TestMainVersion(t *testing.T) {
	r := runMain(t, "version")
	checkEq(t, r.code, 0)
	checkEq(t, r.stderr, "")
	checkf(t, strings.HasPrefix(r.stdout, "vroot "+Version), "%s", r.stdout)
	checkEq(t, strings.Count(r.stdout, "\n"), 1)
}

// A subcommand's name after "--" is a command: here it reaches the run
// path (and stops at the stage, a plain file, before tracing anything),
// where without "--" it is the subcommand.
func TestMainDashDashDisambiguates(t *testing.T) {
	cwd, _ := inTempHome(t)
	notStage := write(t, cwd, "not-a-stage", "x")
	r := runMain(t, "--stage", notStage, "version")
	checkEq(t, r.code, 0)
	checkf(t, strings.HasPrefix(r.stdout, "vroot "), "%s", r.stdout)

	r = runMain(t, "--stage", notStage, "--", "version")
	checkEq(t, r.code, 125)
	checkEq(t, r.stdout, "")
	checkContains(t, r.stderr, notStage)

	r = runMain(t, "--stage", notStage, "check")
	checkEq(t, r.code, 0)
	r = runMain(t, "--stage", notStage, "--", "check")
	checkEq(t, r.code, 125)
	checkContains(t, r.stderr, notStage)
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, 0, ""},
		{&exitError{code: 3}, 3, ""},
		{&exitError{code: 125, err: errors.New("vroot: tracer died")}, 125, "vroot: tracer died\n"},
		{errors.New("boom"), 125, "vroot: boom\n"},
	} {
		var b strings.Builder
		checkEq(t, exitCode(tc.err, &b), tc.code)
		checkEq(t, b.String(), tc.stderr)
	}
}

func TestPrintViolations(t *testing.T) {
	var b strings.Builder
	printViolations(&b, []vroot.Violation{
		{Pid: 7, Syscall: "openat", Guest: "/etc/shadow", Errno: syscall.EACCES, Rule: "--deny /etc/shadow"},
		{Pid: 8, Syscall: "newfstatat", Guest: "/home/u/.netrc", Errno: syscall.ENOENT, Rule: "<shipped>/strict.toml:12"},
	})
	mustEq(t, b.String(), "vroot: denied: openat /etc/shadow (EACCES, rule --deny /etc/shadow)\n"+
		"vroot: denied: newfstatat /home/u/.netrc (ENOENT, rule <shipped>/strict.toml:12)\n")
}

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	mustNil(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// Small helpers: the module's go.sum does not carry go-cmp, which
// gotest.tools/v3/assert needs, so the tests use the standard library.

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func checkf(t *testing.T, ok bool, format string, args ...any) bool {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
	return ok
}

func checkEq[T comparable](t *testing.T, got, want T, ctx ...any) bool {
	t.Helper()
	if got != want {
		t.Errorf("%sgot %#v, want %#v", where(ctx), got, want)
		return false
	}
	return true
}

func mustEq[T comparable](t *testing.T, got, want T, ctx ...any) {
	t.Helper()
	if !checkEq(t, got, want, ctx...) {
		t.FailNow()
	}
}

func checkSlice[T comparable](t *testing.T, got, want []T, ctx ...any) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%sgot %#v, want %#v", where(ctx), got, want)
	}
}

func mustSlice[T comparable](t *testing.T, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func checkContains(t *testing.T, s, sub string, ctx ...any) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s%q does not contain %q", where(ctx), s, sub)
	}
}

func checkErrContains(t *testing.T, err error, sub string, ctx ...any) {
	t.Helper()
	if err == nil {
		t.Errorf("%sno error, want one containing %q", where(ctx), sub)
		return
	}
	checkContains(t, err.Error(), sub, ctx...)
}

func mustErrContains(t *testing.T, err error, sub string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Fatalf("error %v, want one containing %q", err, sub)
	}
}

// where renders a helper's optional context, a format and its arguments,
// as a message prefix.
func where(ctx []any) string {
	if len(ctx) == 0 {
		return ""
	}
	if f, ok := ctx[0].(string); ok {
		return fmt.Sprintf(f, ctx[1:]...) + ": "
	}
	return fmt.Sprint(ctx...) + ": "
}

func TestAskConfig(t *testing.T) {
	o, err := parseArgs([]string{"--ask", "/x", "--ask-with", "socket:/run/a.sock", "--ask-timeout", "1500ms", "--ask-default", "allow", "make"})
	mustNil(t, err)
	p, err := makePlan(o, env{cwd: "/b", home: "/h"})
	mustNil(t, err)
	c, err := o.askConfig(p.ask)
	mustNil(t, err)
	checkEq(t, c.spec, "socket:/run/a.sock")
	checkEq(t, c.timeout, 1500*time.Millisecond)
	checkEq(t, c.allow, true)
	h, err := c.handler(p.m, nil)
	mustNil(t, err)
	checkEq(t, h.Name(), "socket:/run/a.sock")

	// Without ask rules there is no handler, whatever the flags say.
	o, err = parseArgs([]string{"--ask-with", "grant", "make"})
	mustNil(t, err)
	p, err = makePlan(o, env{cwd: "/b", home: "/h"})
	mustNil(t, err)
	c, err = o.askConfig(p.ask)
	mustNil(t, err)
	checkEq(t, c.timeout, time.Duration(0))
	checkEq(t, c.allow, false)
	h, err = c.handler(p.m, nil)
	mustNil(t, err)
	checkf(t, h == nil, "handler %v without ask rules", h)

	// Given twice is refused, like every single-valued flag.
	_, err = parseArgs([]string{"--ask-with", "deny", "--ask-with", "grant", "make"})
	checkErrContains(t, err, "given twice")
}

func TestAskConfigFromProfile(t *testing.T) {
	dir := t.TempDir()
	prof := write(t, dir, "pm.toml", "ask_with = \"socket:/run/pm.sock\"\nask_timeout = \"5s\"\nask_default = \"allow\"\n[[rule]]\npath = \"/opt\"\naction = \"ask\"\n")
	for _, tc := range []struct {
		flags   []string
		spec    string
		timeout time.Duration
		allow   bool
	}{
		{nil, "socket:/run/pm.sock", 5 * time.Second, true},
		{[]string{"--ask-with", "tty"}, "tty", 5 * time.Second, true},
		{[]string{"--ask-default", "deny", "--ask-timeout", "1s"}, "socket:/run/pm.sock", time.Second, false},
	} {
		o, err := parseArgs(append(append([]string{"--config", prof}, tc.flags...), "make"))
		mustNil(t, err)
		p, err := makePlan(o, env{cwd: "/b", home: "/h"})
		mustNil(t, err)
		c, err := o.askConfig(p.ask)
		mustNil(t, err)
		checkEq(t, c.spec, tc.spec, "%v", tc.flags)
		checkEq(t, c.timeout, tc.timeout, "%v", tc.flags)
		checkEq(t, c.allow, tc.allow, "%v", tc.flags)
	}
	var b strings.Builder
	mustNil(t, askConf{spec: "exec:policy", timeout: 0, allow: false}.print(&b))
	checkEq(t, b.String(), "ask: exec:policy; timeout 30s, then deny\n")
}
