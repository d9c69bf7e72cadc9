package cli

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/vroot-dev/vroot/configs"
	"github.com/vroot-dev/vroot/filemap"
)

// plan is what a run or a check does: the compiled filemap and the network
// mode, with where they came from.
type plan struct {
	m       *filemap.Map
	net     string // allow, loopback or none
	netFrom string // what set it: "--net", "--profile strict", "--config x.toml", or "" for the default

	ask filemap.AskSettings // from the profiles; the --ask-* flags override them (askConfig)
}

// env is what a plan depends on outside the command line.
type env struct {
	cwd, home, tmpdir string
}

func hostEnv() (env, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return env{}, fmt.Errorf("cannot find the current directory: %w", err)
	}
	e := env{cwd: cwd, home: os.Getenv("HOME"), tmpdir: os.Getenv("TMPDIR")}
	if e.home == "" {
		// Tools that want a cache directory without $HOME (ccache, go)
		// fall back to the passwd entry; so must the grant of it.
		if u, err := user.Current(); err == nil {
			e.home = u.HomeDir
		}
	}
	return e, nil
}

// makePlan loads the profiles and appends the command-line rules, in the
// order the filemap documents: --profile, each --config in turn, then the
// rule flags as given. For one path the last rule wins, so each layer can
// override the one before.
//
// --sdk DIR sets ${SDK} and, unless --profile is given, selects the shipped
// profile "sdk" (which includes "default"); with --profile, the profile or a
// --config must use ${SDK}, or --sdk would silently do nothing.
func makePlan(o *options, e env) (*plan, error) {
	var sdkDir string
	if o.sdk != "" {
		var err error
		if sdkDir, err = sdkRoot(e.cwd, o.sdk); err != nil {
			return nil, err
		}
	}
	profile := o.profile
	if sdkDir != "" && !o.given["profile"] {
		profile = sdkProfile
	}
	l := &filemap.Loader{
		Vars:    filemap.Vars{CWD: e.cwd, HOME: e.home, TMPDIR: e.tmpdir, SDK: sdkDir},
		Shipped: configs.FS,
	}
	p := &plan{}
	var rules []filemap.Rule
	add := func(prof *filemap.Profile, from string) {
		rules = append(rules, prof.Rules...)
		if prof.Net != "" {
			p.net, p.netFrom = prof.Net, from
		}
		p.ask.Merge(prof.Ask)
	}
	prof, err := l.LoadShipped(profile)
	if err != nil {
		return nil, err
	}
	add(prof, "--profile "+profile)
	for _, c := range o.configs {
		prof, err := l.LoadFile(c)
		if err != nil {
			return nil, err
		}
		add(prof, "--config "+c)
	}
	for _, f := range o.rules {
		rules = append(rules, flagRule(f, e.cwd))
	}
	if sdkDir != "" && !usesSDK(rules, sdkDir) {
		return nil, fmt.Errorf("--sdk %s: no rule reads from it (--profile %s uses no ${SDK}); drop --profile to use the sdk profile, or add a --config whose rules use ${SDK}", o.sdk, profile)
	}
	if o.net != "" {
		p.net, p.netFrom = o.net, "--net"
	}
	if p.net == "" {
		p.net = "allow"
	}
	if p.m, err = filemap.New(rules); err != nil {
		return nil, err
	}
	return p, nil
}

// flagRule turns a rule flag into a rule. parseArgs has checked --map.
func flagRule(f ruleFlag, cwd string) filemap.Rule {
	r := filemap.Rule{Source: f.flag + " " + f.value}
	switch f.flag {
	case "--map":
		guest, host, _ := strings.Cut(f.value, "=")
		r.Path, r.Action, r.To = guest, filemap.Redirect, []string{host}
	case "--grant":
		r.Path, r.Action = abs(cwd, f.value), filemap.Grant
	case "--deny":
		r.Path, r.Action, r.Errno = abs(cwd, f.value), filemap.Deny, syscall.EACCES
	case "--hide":
		r.Path, r.Action, r.Errno = abs(cwd, f.value), filemap.Deny, syscall.ENOENT
	case "--ask":
		r.Path, r.Action = abs(cwd, f.value), filemap.Ask
	default:
		panic("cli: unknown rule flag " + f.flag)
	}
	return r
}

// abs makes a command-line path absolute against the cwd, the way the
// shell user who typed "--grant build" means it. Absolute paths are left as
// written, for filemap to accept or refuse as it would in a profile.
func abs(cwd, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(cwd, p)
}

// print writes the effective filemap, one rule per line, longest prefix
// first (the order in which a reader should check them), then the network
// mode.
func (p *plan) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, r := range p.m.Rules() {
		what := r.Action.String()
		switch {
		case r.Action == filemap.Redirect && len(r.To) > 0:
			what += " -> " + strings.Join(r.To, ", ")
		case r.Action == filemap.Deny:
			what += " " + filemap.ErrnoName(r.Errno)
		}
		fmt.Fprintf(tw, "%s\t%s\t(%s)\n", r.Path, what, r.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "net: %s\n", p.net)
	return err
}
