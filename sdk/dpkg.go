package sdk

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// statusPath is dpkg's database of packages, relative to a root.
const statusPath = "var/lib/dpkg/status"

// field is one field of a Debian control stanza; a multi-line value keeps
// its continuation lines, "\n"-separated and still indented.
type field struct{ key, value string }

// stanza is one paragraph of a control file, its fields in order.
type stanza []field

func (s stanza) get(key string) string {
	for _, f := range s {
		if strings.EqualFold(f.key, key) {
			return f.value
		}
	}
	return ""
}

// id is what names a package instance in the status file.
func (s stanza) id() string {
	a := s.get("Architecture")
	if a == "" || a == "all" {
		return s.get("Package")
	}
	return s.get("Package") + ":" + a
}

// parseControl reads the paragraphs of a control or status file (RFC822
// style: "Key: value", continuation lines start with a space or a tab,
// paragraphs are separated by blank lines). Malformed lines are skipped:
// this is for reporting, not for dpkg.
func parseControl(r io.Reader) ([]stanza, error) {
	var (
		out []stanza
		cur stanza
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
		case line[0] == ' ' || line[0] == '\t':
			if len(cur) > 0 {
				cur[len(cur)-1].value += "\n" + line
			}
		case line[0] == '#':
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			cur = append(cur, field{strings.TrimSpace(k), strings.TrimSpace(v)})
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, sc.Err()
}

func writeControl(w io.Writer, ss []stanza) error {
	bw := bufio.NewWriter(w)
	for i, s := range ss {
		if i > 0 {
			bw.WriteByte('\n')
		}
		for _, f := range s {
			if f.value == "" || f.value[0] == '\n' {
				fmt.Fprintf(bw, "%s:%s\n", f.key, f.value)
			} else {
				fmt.Fprintf(bw, "%s: %s\n", f.key, f.value)
			}
		}
	}
	return bw.Flush()
}

// readStatus reads root's dpkg status file; a missing one is no error.
func readStatus(root string) ([]stanza, error) {
	data, err := os.ReadFile(filepath.Join(root, statusPath))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseControl(bytes.NewReader(data))
}

// recordUnpacked adds the control stanzas of unpacked packages to root's
// status file, as dpkg would after --unpack, replacing earlier records of
// the same package and architecture.
func recordUnpacked(root string, controls []stanza) error {
	old, err := readStatus(root)
	if err != nil {
		return err
	}
	index := map[string]int{}
	for i, s := range old {
		index[s.id()] = i
	}
	for _, c := range controls {
		s := make(stanza, 0, len(c)+1)
		for _, f := range c {
			s = append(s, f)
			if strings.EqualFold(f.key, "Package") {
				s = append(s, field{"Status", "install ok unpacked"})
			}
		}
		if i, ok := index[s.id()]; ok {
			old[i] = s
		} else {
			index[s.id()] = len(old)
			old = append(old, s)
		}
	}
	p := filepath.Join(root, statusPath)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := writeControl(&b, old); err != nil {
		return err
	}
	tmp := p + ".vroot-new"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
