package filemap

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Vars are the values of the variables a profile may use in path and to.
type Vars struct {
	// CWD is the build's working directory at start (${CWD}).
	CWD string
	// HOME is the user's home directory (${HOME}).
	HOME string
	// TMPDIR is ${TMPDIR}; empty means /tmp, as for the programs that read it.
	TMPDIR string
	// SDK is the tree given with --sdk (${SDK}); a profile that uses it
	// while it is empty is an error.
	SDK string
}

// Profile is a loaded profile, its includes resolved.
type Profile struct {
	// Rules are in the order they apply: included profiles' rules first, so
	// that the including file's rules win ties.
	Rules []Rule
	// Net is "allow", "loopback" or "none"; empty if no file set it.
	Net string
	// Ask says who answers ask rules; zero fields were not set.
	Ask AskSettings
}

// Net values a profile may give.
var netValues = []string{"allow", "loopback", "none"}

// Loader reads profiles.
type Loader struct {
	// Vars are expanded in rule paths.
	Vars Vars
	// Shipped holds the profiles that bare include names and LoadShipped
	// refer to (configs.FS): NAME.toml at its root.
	Shipped fs.FS
}

// ProfileError is what every bad profile gives: where, and what is wrong.
type ProfileError struct {
	// File is the profile's name as the user knows it: the path given or
	// included, or "<shipped>/NAME.toml".
	File string
	// Line is 1-based; 0 if the problem has no line (an unreadable file).
	Line int
	// Rule is the 1-based index of the [[rule]] in File, 0 if the problem
	// is not in a rule.
	Rule int
	// Path is the rule's path as written, if it has one.
	Path string
	// Msg says what is wrong, and what would be right.
	Msg string
}

func (e *ProfileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Rule > 0 {
		b.WriteString("rule ")
		b.WriteString(strconv.Itoa(e.Rule))
		if e.Path != "" {
			b.WriteString(" (path ")
			b.WriteString(strconv.Quote(e.Path))
			b.WriteByte(')')
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

const (
	// maxProfileSize bounds what a profile read may cost; real ones are a
	// few kilobytes.
	maxProfileSize = 1 << 20
	// maxLoads bounds the number of files one load reads, includes
	// counted: without it, files that each include the next one twice
	// would be read 2^n times without ever forming a cycle.
	maxLoads = 256
	// shippedPrefix names shipped profiles in messages and sources, so
	// that they are not mistaken for files in the current directory.
	shippedPrefix = "<shipped>/"
)

// origin is where a profile came from, which is also where its relative
// includes are looked for.
type origin struct {
	name    string // for messages and Rule.Source
	id      string // identity, for cycle detection
	shipped bool   // in l.Shipped rather than on the host
	dir     string // directory of relative includes (slash-separated if shipped)
}

type loadState struct {
	stack []origin
	loads int
}

// LoadFile loads the profile at path on the host, with its includes.
func (l *Loader) LoadFile(file string) (*Profile, error) {
	o, err := hostOrigin(file)
	if err != nil {
		return nil, &ProfileError{File: file, Msg: err.Error()}
	}
	data, err := readHost(file)
	if err != nil {
		return nil, &ProfileError{File: file, Msg: err.Error()}
	}
	return l.load(o, data, &loadState{})
}

// LoadShipped loads the shipped profile name (without ".toml").
func (l *Loader) LoadShipped(name string) (*Profile, error) {
	o, data, err := l.readShipped(name + ".toml")
	if err != nil {
		return nil, &ProfileError{File: shippedPrefix + name + ".toml", Msg: err.Error()}
	}
	return l.load(o, data, &loadState{})
}

// LoadBytes loads a profile held in memory. name is used in messages and
// Rule.Source, and its directory is where relative includes are looked for.
func (l *Loader) LoadBytes(name string, data []byte) (*Profile, error) {
	o, err := hostOrigin(name)
	if err != nil {
		// The name is only a label here; an unresolvable one is no reason
		// to refuse the data.
		o = origin{name: name, id: "bytes:" + name, dir: filepath.Dir(name)}
	}
	return l.load(o, data, &loadState{})
}

func hostOrigin(file string) (origin, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return origin{}, err
	}
	// Through symlinks, so that a cycle via a link is named as a cycle
	// rather than running into maxLoads.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	return origin{name: file, id: abs, dir: filepath.Dir(file)}, nil
}

// readHost reads a profile from the host, refusing anything but a regular
// file: an include of /dev/zero or of a FIFO must fail, not hang. Its errors
// do not repeat the file name, which the caller puts where it belongs.
func readHost(file string) ([]byte, error) {
	st, err := os.Stat(file)
	if err != nil {
		return nil, bareErr(err)
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, bareErr(err)
	}
	defer f.Close()
	return readLimited(f)
}

func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxProfileSize+1))
	if err != nil {
		return nil, bareErr(err)
	}
	if len(data) > maxProfileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxProfileSize)
	}
	return data, nil
}

func (l *Loader) readShipped(p string) (origin, []byte, error) {
	o := origin{name: shippedPrefix + p, id: shippedPrefix + p, shipped: true, dir: path.Dir(p)}
	if l.Shipped == nil {
		return o, nil, errors.New("no shipped profiles (Loader.Shipped is nil)")
	}
	if !fs.ValidPath(p) {
		return o, nil, fmt.Errorf("%q is not a valid shipped profile name", p)
	}
	f, err := l.Shipped.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return o, nil, fmt.Errorf("no shipped profile %q (have %s)", strings.TrimSuffix(p, ".toml"), l.shippedNames())
		}
		return o, nil, err
	}
	defer f.Close()
	data, err := readLimited(f)
	return o, data, err
}

func (l *Loader) shippedNames() string {
	ents, err := fs.ReadDir(l.Shipped, ".")
	if err != nil {
		return "none"
	}
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".toml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// include is one entry of a profile's include list.
type include struct {
	ref  string
	line int
}

// file is one profile file, parsed and checked, its includes not yet read.
type file struct {
	includes []include
	net      string
	ask      AskSettings
	rules    []Rule
}

func (l *Loader) load(o origin, data []byte, st *loadState) (*Profile, error) {
	for i, s := range st.stack {
		if s.id == o.id {
			chain := make([]string, 0, len(st.stack)-i+1)
			for _, c := range st.stack[i:] {
				chain = append(chain, c.name)
			}
			chain = append(chain, o.name)
			// The error belongs to the include that closes the cycle,
			// which the caller will locate.
			return nil, &cycleError{chain: chain}
		}
	}
	if st.loads++; st.loads > maxLoads {
		return nil, &ProfileError{File: o.name, Msg: fmt.Sprintf("more than %d profile files loaded (includes too deep or repeated)", maxLoads)}
	}
	f, err := l.parse(o.name, data)
	if err != nil {
		return nil, err
	}
	st.stack = append(st.stack, o)
	defer func() { st.stack = st.stack[:len(st.stack)-1] }()

	p := &Profile{}
	for _, inc := range f.includes {
		sub, err := l.loadInclude(o, inc, st)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, sub.Rules...)
		if sub.Net != "" {
			p.Net = sub.Net
		}
		p.Ask.Merge(sub.Ask)
	}
	p.Rules = append(p.Rules, f.rules...)
	if f.net != "" {
		p.Net = f.net
	}
	p.Ask.Merge(f.ask)
	return p, nil
}

type cycleError struct{ chain []string }

func (e *cycleError) Error() string { return "include cycle: " + strings.Join(e.chain, " -> ") }

func (l *Loader) loadInclude(from origin, inc include, st *loadState) (*Profile, error) {
	fail := func(format string, args ...any) error {
		return &ProfileError{File: from.name, Line: inc.line, Msg: fmt.Sprintf("include %q: ", inc.ref) + fmt.Sprintf(format, args...)}
	}
	var (
		o    origin
		data []byte
		err  error
	)
	switch {
	case inc.ref == "":
		return nil, fail("empty name (want a shipped profile name or a path)")
	case !strings.Contains(inc.ref, "/") && !strings.HasSuffix(inc.ref, ".toml"):
		o, data, err = l.readShipped(inc.ref + ".toml")
	case from.shipped:
		if path.IsAbs(inc.ref) {
			return nil, fail("a shipped profile can only include shipped profiles")
		}
		o, data, err = l.readShipped(path.Join(from.dir, inc.ref))
	default:
		p := inc.ref
		if !filepath.IsAbs(p) {
			p = filepath.Join(from.dir, p)
		}
		if o, err = hostOrigin(p); err == nil {
			if data, err = readHost(p); err != nil {
				err = fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	if err != nil {
		return nil, fail("%v", err)
	}
	sub, err := l.load(o, data, st)
	var ce *cycleError
	if errors.As(err, &ce) {
		return nil, &ProfileError{File: from.name, Line: inc.line, Msg: ce.Error()}
	}
	return sub, err
}

// parse decodes and checks one profile, without reading its includes, so
// that a file's own mistakes are reported before those of what it includes.
func (l *Loader) parse(name string, data []byte) (f *file, err error) {
	var doc map[string]any
	func() {
		// The decoder panics only on its own bugs, but a bad profile must
		// give an error, never take the tracer down.
		defer func() {
			if r := recover(); r != nil {
				err = &ProfileError{File: name, Msg: fmt.Sprintf("TOML decoder failed: %v", r)}
			}
		}()
		_, err = toml.Decode(string(data), &doc)
	}()
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ProfileError{File: name, Line: pe.Position.Line, Msg: "TOML syntax: " + pe.Message}
		}
		if _, ok := err.(*ProfileError); ok {
			return nil, err
		}
		return nil, &ProfileError{File: name, Msg: err.Error()}
	}
	loc := locate(string(data))
	p := &parser{l: l, name: name, loc: loc}
	return p.file(doc)
}

type parser struct {
	l    *Loader
	name string
	loc  *locations
}

func (p *parser) errAt(line int, format string, args ...any) error {
	return &ProfileError{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

var topKeys = []string{"include", "net", "rule", "ask_with", "ask_timeout", "ask_default"}
var ruleKeys = []string{"path", "action", "to", "errno"}

func (p *parser) file(doc map[string]any) (*file, error) {
	if k, ok := firstUnknown(doc, topKeys, p.loc.top); ok {
		return nil, p.errAt(p.loc.topLine(k), "unknown key %q (want %s)", k, orList(topKeys))
	}
	f := &file{}
	if v, ok := doc["include"]; ok {
		line := p.loc.topLine("include")
		list, ok := v.([]any)
		if !ok {
			return nil, p.errAt(line, `include must be a list, e.g. include = ["default"], not %s`, typeName(v))
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok {
				return nil, p.errAt(line, "include entries must be strings, not %s", typeName(e))
			}
			f.includes = append(f.includes, include{ref: s, line: line})
		}
	}
	if v, ok := doc["net"]; ok {
		line := p.loc.topLine("net")
		s, ok := v.(string)
		if !ok {
			return nil, p.errAt(line, "net must be a string (allow, loopback or none), not %s", typeName(v))
		}
		if !contains(netValues, s) {
			return nil, p.errAt(line, "unknown net %q (want allow, loopback or none)", s)
		}
		f.net = s
	}
	if err := p.askKeys(doc, f); err != nil {
		return nil, err
	}
	if v, ok := doc["rule"]; ok {
		var tables []map[string]any
		switch v := v.(type) {
		case []map[string]any:
			tables = v
		case []any:
			for _, e := range v {
				t, ok := e.(map[string]any)
				if !ok {
					return nil, p.errAt(p.loc.topLine("rule"), "rule must be a list of tables ([[rule]]), but it holds %s", typeName(e))
				}
				tables = append(tables, t)
			}
		default:
			return nil, p.errAt(p.loc.topLine("rule"), "rule must be written [[rule]] (a list of tables), not %s", typeName(v))
		}
		for i, t := range tables {
			r, err := p.rule(i, t)
			if err != nil {
				return nil, err
			}
			f.rules = append(f.rules, r)
		}
	}
	return f, nil
}

// firstUnknown returns the key of t not in known that comes first in the
// file, so that the message points at the earliest mistake.
func firstUnknown(t map[string]any, known []string, lines map[string]int) (string, bool) {
	var bad []string
	for k := range t {
		if !contains(known, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return "", false
	}
	sort.Slice(bad, func(i, j int) bool {
		li, lj := lines[bad[i]], lines[bad[j]]
		if li != lj {
			return li < lj
		}
		return bad[i] < bad[j]
	})
	return bad[0], true
}

func (p *parser) rule(i int, t map[string]any) (Rule, error) {
	raw, _ := t["path"].(string)
	fail := func(key, format string, args ...any) error {
		return &ProfileError{File: p.name, Line: p.loc.keyLine(i, key), Rule: i + 1, Path: raw, Msg: fmt.Sprintf(format, args...)}
	}
	var lines map[string]int
	if i < len(p.loc.rules) {
		lines = p.loc.rules[i].keys
	}
	if k, ok := firstUnknown(t, ruleKeys, lines); ok {
		return Rule{}, fail(k, "unknown key %q (want %s)", k, orList(ruleKeys))
	}

	r := Rule{Source: p.name + ":" + strconv.Itoa(p.loc.ruleLine(i))}
	if p.loc.ruleLine(i) == 0 {
		r.Source = p.name
	}

	v, ok := t["path"]
	if !ok {
		return r, fail("", "missing path")
	}
	if _, ok := v.(string); !ok {
		return r, fail("path", "path must be a string, not %s", typeName(v))
	}
	var err error
	if r.Path, err = p.l.expand(raw); err != nil {
		return r, fail("path", "path %q %v", raw, err)
	}

	v, ok = t["action"]
	if !ok {
		return r, fail("", "missing action (want grant, redirect, ask or deny)")
	}
	s, ok := v.(string)
	if !ok {
		return r, fail("action", "action must be a string (grant, redirect, ask or deny), not %s", typeName(v))
	}
	if r.Action, err = ParseAction(s); err != nil {
		return r, fail("action", "%v", err)
	}

	if v, ok := t["to"]; ok {
		if r.Action != Redirect {
			return r, fail("to", `"to" is only for redirect rules, and this one is %s`, r.Action)
		}
		list, ok := v.([]any)
		if !ok {
			return r, fail("to", `to must be a list of paths, e.g. to = ["/sdk/usr", "/usr"], not %s`, typeName(v))
		}
		if len(list) == 0 {
			// Ambiguous: "no lower layer" or "the default one"? Make the
			// author say which by omitting it.
			return r, fail("to", `to is empty; omit it to read %s from the host`, r.Path)
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok {
				return r, fail("to", "to entries must be strings, not %s", typeName(e))
			}
			x, err := p.l.expand(s)
			if err != nil {
				return r, fail("to", "to entry %q %v", s, err)
			}
			r.To = append(r.To, x)
		}
	}

	if v, ok := t["errno"]; ok {
		if r.Action != Deny {
			return r, fail("errno", `"errno" is only for deny rules, and this one is %s`, r.Action)
		}
		s, ok := v.(string)
		if !ok {
			return r, fail("errno", "errno must be a string (EACCES, ENOENT or EPERM), not %s", typeName(v))
		}
		if r.Errno, err = ParseErrno(s); err != nil {
			return r, fail("errno", "%v", err)
		}
	}

	// The same checks and defaults as New, so that a profile that loads
	// also compiles, its mistakes are reported with a line, and its rules
	// say what they do (a deny's EACCES) before they are compiled.
	nr, err := checkRule(r)
	if err != nil {
		return r, fail("", "%v", err)
	}
	return nr, nil
}

// expand substitutes ${CWD}, ${HOME}, ${TMPDIR} and ${SDK} in s, and
// returns the result cleaned. It must be absolute. Its errors are phrased to
// follow the quoted value: `path "x" is not absolute`.
func (l *Loader) expand(s string) (string, error) {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", errors.New(`has a "${" without its "}"`)
		}
		name := rest[i+2 : i+j]
		val, err := l.lookupVar(name)
		if err != nil {
			return "", err
		}
		b.WriteString(val)
		rest = rest[i+j+1:]
	}
	x := b.String()
	if strings.IndexByte(x, 0) >= 0 {
		return "", errors.New("contains a NUL byte")
	}
	if !path.IsAbs(x) {
		if x != s {
			return "", fmt.Errorf("expands to %q, which is not absolute", x)
		}
		return "", errors.New("is not absolute")
	}
	return path.Clean(x), nil
}

func (l *Loader) lookupVar(name string) (string, error) {
	var v string
	switch name {
	case "CWD":
		v = l.Vars.CWD
	case "HOME":
		v = l.Vars.HOME
	case "TMPDIR":
		if v = l.Vars.TMPDIR; v == "" {
			v = "/tmp"
		}
	case "SDK":
		v = l.Vars.SDK
		if v == "" {
			return "", errors.New("uses ${SDK}, but no SDK was given")
		}
	default:
		return "", fmt.Errorf("uses unknown variable ${%s} (want ${CWD}, ${HOME}, ${TMPDIR} or ${SDK})", name)
	}
	if v == "" {
		return "", fmt.Errorf("uses ${%s}, which is empty", name)
	}
	return v, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// orList renders {a, b, c} as "a, b or c".
func orList(l []string) string {
	if len(l) == 1 {
		return l[0]
	}
	return strings.Join(l[:len(l)-1], ", ") + " or " + l[len(l)-1]
}

// typeName names a decoded TOML value's type the way TOML does.
func typeName(v any) string {
	switch v := v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []any:
		return "an array"
	case []map[string]any:
		return "an array of tables"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("%T", v)
	}
}
