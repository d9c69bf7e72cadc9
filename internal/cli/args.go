package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/pack"
)

// Subcommands. Any other first word is the command to run.
const (
	cmdRun     = "" // vroot [flags] [--] COMMAND [ARG...]
	cmdCheck   = "check"
	cmdVersion = "version"
	cmdHelp    = "help"
	cmdStatus  = "status"
)

func isSubcommand(w string) bool {
	return w == cmdCheck || w == cmdVersion || w == cmdHelp || hasOwnWords(w)
}

// hasOwnWords says whether subcommand w parses the words after it itself.
func hasOwnWords(w string) bool {
	return w == cmdStatus || w == cmdSDK || w == cmdDeps || w == cmdPack
}

// ruleFlag is one filemap flag (--map, --grant, --deny, --hide, --ask) as
// given. They share one list because their relative order matters: for the
// same path, the later rule wins.
type ruleFlag struct {
	flag  string // "--grant"
	value string // as given, not yet made absolute
}

// options is the parsed command line, before anything is read from disk.
type options struct {
	cmd  string   // cmdRun or a subcommand
	args []string // the command to run (cmdRun only)

	profile string   // shipped profile name
	configs []string // profile files, in order
	rules   []ruleFlag

	stage, sdk, output, report, net string
	mtree                           string // with output
	fakeroot, strict                bool
	// onlyDeps: --only-deps, the declared packages; nil when not given.
	onlyDeps []string

	askWith, askTimeout, askDefault string // as given; see askConfig
	allowDeletions                  bool   // with output

	verbose, quiet      bool
	logLevel, logFormat string
	help                bool
	given               map[string]bool // flag names set on the command line
}

// flagDoc documents one flag for the usage text. The FlagSet is the
// authority on what exists; a test keeps the two in step.
type flagDoc struct {
	name, arg, help string
}

var flagDocs = []flagDoc{
	{"profile", "NAME", `shipped profile to start from (default "default")`},
	{"config", "FILE", "profile file applied after --profile (repeatable)"},
	{"map", "GUEST=HOST", "redirect GUEST to HOST: reads from HOST, writes staged"},
	{"grant", "PATH", "let the build use PATH on the host as is"},
	{"deny", "PATH", "refuse access to PATH (EACCES)"},
	{"hide", "PATH", "make PATH look absent (ENOENT)"},
	{"ask", "PATH", "decide each access to PATH by asking (see --ask-with)"},
	{"ask-with", "HANDLER", "who answers asks: deny, grant, tty, exec:CMD or socket:PATH (default tty if vroot has a terminal, else deny)"},
	{"ask-timeout", "DUR", "give the --ask-default answer when a handler takes longer (default 30s)"},
	{"ask-default", "ANSWER", "allow or deny: the answer when the handler fails or times out (default deny)"},
	{"sdk", "DIR", `read headers and libraries from DIR first (profile "sdk" unless --profile)`},
	{"net", "MODE", "network access: allow, loopback or none"},
	{"stage", "DIR", "staging directory that receives the build's writes"},
	{"only-deps", "PKG,...", "hide host files of Debian packages not declared (nor build-essential, nor their dependencies)"},
	{"fakeroot", "", "make the build believe it runs as root"},
	{"strict", "", "contain the build with Landlock as well"},
	{"output", "FILE", "pack the stage into FILE (.tar, .tar.gz, .tar.zst) on exit 0"},
	{"mtree", "FILE", "with --output: write the archive's mtree manifest to FILE"},
	{"allow-deletions", "", "with --output: pack even if the build deleted host files"},
	{"report", "FILE", "write a JSON report of the run to FILE"},
	{"v", "", "verbose: debug logs"},
	{"q", "", "quiet: errors only, no violation summary"},
	{"log-level", "LEVEL", "trace, debug, info, warn, error or off (default warn)"},
	{"log-format", "FORMAT", "text or json (default text)"},
	{"h", "", "print this help (also --help)"},
}

// onceValue is a string flag that may be given once: a second --profile
// would otherwise silently replace the first.
type onceValue struct {
	p   *string
	set bool
}

func (v *onceValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return *v.p
}

func (v *onceValue) Set(s string) error {
	if v.set {
		return fmt.Errorf("given twice (%q, then %q)", *v.p, s)
	}
	v.set = true
	*v.p = s
	return nil
}

type listValue struct{ p *[]string }

func (v *listValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v *listValue) Set(s string) error { *v.p = append(*v.p, s); return nil }

// pkgsValue collects comma-separated package names; given at all, even
// empty, the list is non-nil.
type pkgsValue struct{ p *[]string }

func (v *pkgsValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v *pkgsValue) Set(s string) error {
	if *v.p == nil {
		*v.p = []string{}
	}
	for n := range strings.SplitSeq(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			*v.p = append(*v.p, n)
		}
	}
	return nil
}

type ruleValue struct {
	flag string
	p    *[]ruleFlag
}

func (v *ruleValue) String() string { return "" }

func (v *ruleValue) Set(s string) error {
	if s == "" {
		return errors.New("empty path")
	}
	*v.p = append(*v.p, ruleFlag{flag: v.flag, value: s})
	return nil
}

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("vroot", flag.ContinueOnError)
	// parseArgs is pure: it reports errors by returning them, and Main
	// prints them once, prefixed like every other vroot error. Letting
	// flag print too would show each mistake twice, with a usage dump.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	fs.Var(&onceValue{p: &o.profile}, "profile", "")
	fs.Var(&listValue{p: &o.configs}, "config", "")
	for _, name := range []string{"map", "grant", "deny", "hide", "ask"} {
		fs.Var(&ruleValue{flag: "--" + name, p: &o.rules}, name, "")
	}
	fs.Var(&onceValue{p: &o.askWith}, "ask-with", "")
	fs.Var(&onceValue{p: &o.askTimeout}, "ask-timeout", "")
	fs.Var(&onceValue{p: &o.askDefault}, "ask-default", "")
	fs.Var(&onceValue{p: &o.sdk}, "sdk", "")
	fs.Var(&onceValue{p: &o.net}, "net", "")
	fs.Var(&onceValue{p: &o.stage}, "stage", "")
	fs.Var(&pkgsValue{p: &o.onlyDeps}, "only-deps", "")
	fs.BoolVar(&o.fakeroot, "fakeroot", false, "")
	fs.BoolVar(&o.strict, "strict", false, "")
	fs.Var(&onceValue{p: &o.output}, "output", "")
	fs.Var(&onceValue{p: &o.mtree}, "mtree", "")
	fs.BoolVar(&o.allowDeletions, "allow-deletions", false, "")
	fs.Var(&onceValue{p: &o.report}, "report", "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.Var(&onceValue{p: &o.logLevel}, "log-level", "")
	fs.Var(&onceValue{p: &o.logFormat}, "log-format", "")
	// Defined rather than left to flag's built-in -h handling, which
	// would call Usage and return ErrHelp: help is a success here.
	fs.BoolVar(&o.help, "h", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	return fs
}

// parseArgs parses vroot's command line. It reads nothing and prints
// nothing, so every case can be tested; paths stay as given (see rules).
//
// vroot's flags end at the first word that is not a flag, or at "--": in
// "vroot make -j2" the -j2 is make's. That word is a subcommand only if it
// names one and no "--" came before it, so "vroot -- check" runs a program
// called check. A subcommand's own flags follow it ("vroot check
// --config x.toml"), and are the same flags.
func parseArgs(args []string) (*options, error) {
	o := &options{given: map[string]bool{}}
	fs := newFlagSet(o)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	rest := fs.Args()
	dashdash := endedByDashDash(fs, args[:len(args)-len(rest)])
	switch {
	case !dashdash && len(rest) > 0 && hasOwnWords(rest[0]):
		// Subcommands with a grammar of their own (status STAGE [--json],
		// sdk check|create ..., deps REPORT, pack STAGE -o FILE): keep
		// their words for them.
		o.cmd, o.args = rest[0], rest[1:]
	case !dashdash && len(rest) > 0 && isSubcommand(rest[0]):
		o.cmd = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return nil, err
		}
		rest = fs.Args()
		switch {
		case o.help:
			// "vroot check -h" asks for help, whatever follows.
		case len(rest) > 0:
			return nil, fmt.Errorf("%s: unexpected argument %q", o.cmd, rest[0])
		}
	default:
		o.args = rest
	}
	fs.Visit(func(f *flag.Flag) { o.given[f.Name] = true })
	if o.help {
		o.cmd = cmdHelp
		o.args = nil
	}
	if o.profile == "" {
		if o.given["profile"] {
			return nil, errors.New("--profile: empty name")
		}
		o.profile = "default"
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// endedByDashDash reports whether the flags flag consumed (consumed, a
// prefix of the arguments) ended with a "--" terminator, as opposed to a
// "--" that was the value of a flag ("--config --"). It walks the words
// the way flag does, which is simple because flag accepted them.
func endedByDashDash(fs *flag.FlagSet, consumed []string) bool {
	for i := 0; i < len(consumed); i++ {
		w := consumed[i]
		if w == "--" {
			return true
		}
		name := strings.TrimPrefix(strings.TrimPrefix(w, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
		}
		i++ // the flag's value is the next word
	}
	return false
}

// check validates what can be validated without the file system.
func (o *options) check() error {
	if o.verbose && o.quiet {
		return errors.New("-v and -q: give one or the other")
	}
	if o.logLevel != "" && hclog.LevelFromString(o.logLevel) == hclog.NoLevel {
		return fmt.Errorf("--log-level %q: want trace, debug, info, warn, error or off", o.logLevel)
	}
	switch o.logFormat {
	case "", "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want text or json", o.logFormat)
	}
	switch o.net {
	case "", "allow", "loopback", "none":
	default:
		return fmt.Errorf("--net %q: want allow, loopback or none", o.net)
	}
	if _, err := o.askConfig(filemap.AskSettings{}); err != nil {
		return err
	}
	if o.output != "" {
		// Known before the build runs, not after it.
		if _, err := pack.FormatOf(o.output); err != nil {
			return fmt.Errorf("--output: %w", err)
		}
	} else if o.mtree != "" || o.allowDeletions {
		return errors.New("--mtree and --allow-deletions go with --output")
	}
	for _, r := range o.rules {
		if r.flag != "--map" {
			continue
		}
		guest, host, ok := strings.Cut(r.value, "=")
		if !ok {
			return fmt.Errorf("--map %s: want GUEST=HOST", r.value)
		}
		// Unlike --grant and friends, --map paths are not made absolute:
		// "--map usr=sdk/usr" is more likely a typo than a wish for the
		// current directory's usr, and a guest path relative to vroot's
		// own cwd means nothing to the build.
		if !filepath.IsAbs(guest) {
			return fmt.Errorf("--map %s: GUEST %q is not an absolute path", r.value, guest)
		}
		if !filepath.IsAbs(host) {
			return fmt.Errorf("--map %s: HOST %q is not an absolute path", r.value, host)
		}
	}
	return nil
}

// level is the level vroot logs at: --log-level if given, else -v or
// -q, else warn, so that a build's output is not interleaved with vroot's
// chatter.
func (o *options) level() hclog.Level {
	switch {
	case o.logLevel != "":
		return hclog.LevelFromString(o.logLevel)
	case o.verbose:
		return hclog.Debug
	case o.quiet:
		return hclog.Error
	}
	return hclog.Warn
}
