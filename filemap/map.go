package filemap

// Map is the compiled set of rules. (stub: to be replaced)
type Map struct{ rules []Rule }

// New compiles rules; later rules win ties.
func New(rules []Rule) (*Map, error) { return &Map{rules: rules}, nil }

// Lookup returns the rule with the longest component-wise prefix of path.
func (m *Map) Lookup(path string) *Rule { return nil }

// Rules returns the effective rules, longest prefix first.
func (m *Map) Rules() []Rule { return m.rules }
