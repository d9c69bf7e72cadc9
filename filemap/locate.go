package filemap

import (
	"sort"
	"strconv"
	"strings"
)

// The TOML decoder does not say where a value came from: toml.MetaData keeps
// one position per dotted key, so "rule.path" of the second [[rule]]
// overwrites that of the first, and it exposes none of them anyway. Error
// messages and Rule.Source need per-rule lines, so locate re-reads the
// document, already known to be valid TOML, just far enough to see where each
// statement starts: strings, comments and brackets are skipped, values are
// not interpreted.

// locations are the first lines at which keys appear.
type locations struct {
	top   map[string]int // top-level key (or table header) -> line
	rules []ruleLoc      // one per [[rule]] header or inline table in rule = [...]
}

type ruleLoc struct {
	line int
	keys map[string]int // key inside the rule -> line
}

// topLine returns the line of a top-level key, 0 if unknown.
func (l *locations) topLine(key string) int { return l.top[key] }

// ruleLine returns the line of rule i (0-based), 0 if unknown.
func (l *locations) ruleLine(i int) int {
	if i < 0 || i >= len(l.rules) {
		return 0
	}
	return l.rules[i].line
}

// keyLine returns the line of key in rule i, falling back to the rule's
// own line so that a message always points somewhere near.
func (l *locations) keyLine(i int, key string) int {
	if i < 0 || i >= len(l.rules) {
		return 0
	}
	if n := l.rules[i].keys[key]; n > 0 {
		return n
	}
	return l.rules[i].line
}

type locator struct {
	s     string
	i     int
	nl    []int // offsets of '\n', to turn offsets into lines
	loc   *locations
	table []string // the current [table] or [[table]]
	inAOT bool     // the current table is an element of the [[rule]] array
}

func locate(src string) *locations {
	lc := &locator{s: src, loc: &locations{top: map[string]int{}}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lc.nl = append(lc.nl, i)
		}
	}
	lc.document()
	return lc.loc
}

func (lc *locator) line(off int) int {
	return 1 + sort.SearchInts(lc.nl, off)
}

func (lc *locator) eof() bool { return lc.i >= len(lc.s) }

func (lc *locator) peek(k int) byte {
	if lc.i+k < len(lc.s) {
		return lc.s[lc.i+k]
	}
	return 0
}

// skip passes over blanks, and also newlines and comments if nl is set.
func (lc *locator) skip(nl bool) {
	for !lc.eof() {
		switch lc.s[lc.i] {
		case ' ', '\t':
			lc.i++
		case '\r', '\n':
			if !nl {
				return
			}
			lc.i++
		case '#':
			if !nl {
				return
			}
			for !lc.eof() && lc.s[lc.i] != '\n' {
				lc.i++
			}
		default:
			return
		}
	}
}

func (lc *locator) document() {
	for {
		lc.skip(true)
		if lc.eof() {
			return
		}
		start := lc.i
		switch {
		case lc.s[lc.i] == '[' && lc.peek(1) == '[':
			lc.i += 2
			key := lc.key()
			lc.header(key, true, lc.line(start))
		case lc.s[lc.i] == '[':
			lc.i++
			key := lc.key()
			lc.header(key, false, lc.line(start))
		default:
			key := lc.key()
			lc.skip(false)
			if lc.peek(0) == '=' {
				lc.i++
			}
			lc.skip(false)
			lc.keyval(key, lc.line(start))
		}
		// Whatever is left on the line (the "]]", a comment) is not a
		// statement. Skipping to the newline also guarantees progress.
		for !lc.eof() && lc.s[lc.i] != '\n' {
			lc.i++
		}
		if lc.i == start {
			lc.i++
		}
	}
}

func (lc *locator) header(key []string, aot bool, line int) {
	lc.table = key
	lc.inAOT = false
	if len(key) == 0 {
		return
	}
	if key[0] != "rule" {
		setFirst(lc.loc.top, key[0], line)
		return
	}
	setFirst(lc.loc.top, "rule", line)
	switch {
	case len(key) == 1 && aot:
		lc.loc.rules = append(lc.loc.rules, ruleLoc{line: line, keys: map[string]int{}})
		lc.inAOT = true
	case len(key) > 1 && len(lc.loc.rules) > 0:
		// [rule.x] or [[rule.x]]: a sub-table of the last rule, which the
		// loader will call an unknown key "x".
		setFirst(lc.loc.rules[len(lc.loc.rules)-1].keys, key[1], line)
	}
}

func (lc *locator) keyval(key []string, line int) {
	full := append(append([]string(nil), lc.table...), key...)
	switch {
	case len(full) == 0:
		lc.value(nil)
	case lc.inAOT && len(full) > 1 && len(lc.loc.rules) > 0:
		setFirst(lc.loc.rules[len(lc.loc.rules)-1].keys, full[1], line)
		lc.value(nil)
	case len(full) == 1:
		setFirst(lc.loc.top, full[0], line)
		if full[0] == "rule" {
			lc.value(lc.ruleArray)
		} else {
			lc.value(nil)
		}
	default:
		setFirst(lc.loc.top, full[0], line)
		lc.value(nil)
	}
}

// ruleArray is called for each element of a top-level rule = [...] array
// that is an inline table, with that table's line.
func (lc *locator) ruleArray(line int) *ruleLoc {
	lc.loc.rules = append(lc.loc.rules, ruleLoc{line: line, keys: map[string]int{}})
	return &lc.loc.rules[len(lc.loc.rules)-1]
}

func setFirst(m map[string]int, k string, line int) {
	if _, ok := m[k]; !ok {
		m[k] = line
	}
}

// key reads a possibly dotted, possibly quoted key.
func (lc *locator) key() []string {
	var parts []string
	for {
		lc.skip(false)
		if lc.eof() {
			return parts
		}
		switch c := lc.s[lc.i]; c {
		case '"':
			start := lc.i
			lc.str()
			raw := lc.s[start:lc.i]
			if u, err := strconv.Unquote(raw); err == nil {
				parts = append(parts, u)
			} else {
				parts = append(parts, strings.Trim(raw, `"`))
			}
		case '\'':
			start := lc.i
			lc.str()
			parts = append(parts, strings.Trim(lc.s[start:lc.i], "'"))
		default:
			start := lc.i
			for !lc.eof() && !strings.ContainsRune(" \t\r\n.=[]{}\"'#,", rune(lc.s[lc.i])) {
				lc.i++
			}
			if lc.i == start {
				return parts
			}
			parts = append(parts, lc.s[start:lc.i])
		}
		lc.skip(false)
		if lc.peek(0) != '.' {
			return parts
		}
		lc.i++
	}
}

// value skips one value. For a rule = [...] array, elem is told of each
// inline table so that its keys can be located.
func (lc *locator) value(elem func(line int) *ruleLoc) {
	if lc.eof() {
		return
	}
	switch lc.s[lc.i] {
	case '"', '\'':
		lc.str()
	case '[':
		lc.array(elem)
	case '{':
		lc.inline(nil)
	default:
		for !lc.eof() && !strings.ContainsRune(",]}\r\n#", rune(lc.s[lc.i])) {
			lc.i++
		}
	}
}

func (lc *locator) array(elem func(line int) *ruleLoc) {
	lc.i++ // '['
	for {
		lc.skip(true)
		if lc.eof() {
			return
		}
		start := lc.i
		switch lc.s[lc.i] {
		case ']':
			lc.i++
			return
		case ',':
			lc.i++
		case '{':
			var r *ruleLoc
			if elem != nil {
				r = elem(lc.line(start))
			}
			lc.inline(r)
		default:
			lc.value(nil)
		}
		if lc.i == start {
			lc.i++
		}
	}
}

func (lc *locator) inline(r *ruleLoc) {
	lc.i++ // '{'
	for {
		lc.skip(true)
		if lc.eof() {
			return
		}
		start := lc.i
		switch lc.s[lc.i] {
		case '}':
			lc.i++
			return
		case ',':
			lc.i++
		default:
			key := lc.key()
			lc.skip(false)
			if lc.peek(0) == '=' {
				lc.i++
			}
			lc.skip(false)
			if r != nil && len(key) > 0 {
				setFirst(r.keys, key[0], lc.line(start))
			}
			lc.value(nil)
		}
		if lc.i == start {
			lc.i++
		}
	}
}

// str skips a string of any of TOML's four kinds, starting at its quote.
func (lc *locator) str() {
	q := lc.s[lc.i]
	if lc.peek(1) == q && lc.peek(2) == q {
		lc.i += 3
		for !lc.eof() {
			if q == '"' && lc.s[lc.i] == '\\' {
				lc.i += 2
				continue
			}
			if lc.s[lc.i] == q && lc.peek(1) == q && lc.peek(2) == q {
				lc.i += 3
				// Up to two more quotes belong to the content: """a""""".
				for k := 0; k < 2 && lc.peek(0) == q; k++ {
					lc.i++
				}
				return
			}
			lc.i++
		}
		return
	}
	lc.i++
	for !lc.eof() {
		switch lc.s[lc.i] {
		case '\\':
			if q == '"' {
				lc.i += 2
				continue
			}
		case '\n':
			return // unterminated; the parser would have said so
		case q:
			lc.i++
			return
		}
		lc.i++
	}
}
