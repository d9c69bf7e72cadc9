package tracer

// The tracer's steady state must not allocate (design §6): the paths a
// build names repeat endlessly (the same headers, the same libraries, the
// same directories), so the strings made from tracee memory are interned.
// A lookup of a []byte key in a map[string] does not allocate; only a path
// seen for the first time since the table was last cleared does.

// internMax bounds an intern table: when full it is cleared, which costs
// one allocation per path until the working set is back in.
const internMax = 8192

type internTable struct {
	m map[string]string
}

// bytes returns b as a string, shared with earlier identical ones.
func (t *internTable) bytes(b []byte) string {
	if s, ok := t.m[string(b)]; ok {
		return s
	}
	s := string(b)
	t.put(s)
	return s
}

func (t *internTable) put(s string) {
	if t.m == nil {
		t.m = make(map[string]string)
	}
	if len(t.m) >= internMax {
		clear(t.m)
	}
	t.m[s] = s
}

// joinKey is a directory and a relative path, interned as dir + "/" + rel.
type joinKey struct{ dir, rel string }

type joinTable struct {
	m map[joinKey]string
}

// join returns dir + "/" + rel (dir "/" gives "/" + rel), interned.
func (t *joinTable) join(dir, rel string) string {
	k := joinKey{dir, rel}
	if s, ok := t.m[k]; ok {
		return s
	}
	var s string
	if dir == "/" {
		s = "/" + rel
	} else {
		s = dir + "/" + rel
	}
	if t.m == nil {
		t.m = make(map[joinKey]string)
	}
	if len(t.m) >= internMax {
		clear(t.m)
	}
	t.m[k] = s
	return s
}
