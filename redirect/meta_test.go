package redirect

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

func inoOf(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func attrOf(t *testing.T, s *Stage, p string) (Attr, bool) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return s.Attr(fi)
}

func TestMetaDurableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(s.Root(), "bin-x")
	d := filepath.Join(s.Root(), "dev-null")
	os.WriteFile(f, []byte("x"), 0o755)
	os.WriteFile(d, nil, 0o644)
	want := map[string]Attr{
		f: {Uid: 0, Gid: 60, Mode: syscall.S_IFREG | 0o4755, Xattrs: map[string][]byte{"security.capability": {1, 0, 0, 2, 0x20}, "user.a b": {}}},
		d: {Uid: 0, Gid: 0, Mode: syscall.S_IFCHR | 0o666, Rdev: 0x103},
	}
	for p, a := range want {
		if err := s.SetAttr(inoOf(t, p), a); err != nil {
			t.Fatal(err)
		}
	}
	// A second set replaces the whole record.
	a := want[f]
	a.Uid = 65534
	want[f] = a
	if err := s.SetAttr(inoOf(t, f), a); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for p, w := range want {
		got, ok := attrOf(t, s, p)
		if !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("%s: got %+v %v, want %+v", p, got, ok, w)
		}
	}
	os.WriteFile(filepath.Join(s.Root(), "plain"), nil, 0o644)
	if a, ok := attrOf(t, s, filepath.Join(s.Root(), "plain")); ok {
		t.Errorf("file without a record: got %+v", a)
	}
}

// A crash (no Close) keeps every acknowledged record; a torn append is cut
// off and what follows it in the log is appended after the cut.
func TestMetaTornTail(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(s.Root(), "f")
	g := filepath.Join(s.Root(), "g")
	os.WriteFile(f, nil, 0o644)
	os.WriteFile(g, nil, 0o644)
	af := Attr{Uid: 1, Gid: 2, Mode: syscall.S_IFREG | 0o2755}
	if err := s.SetAttr(inoOf(t, f), af); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: the lock goes with the process, the log stays as
	// written, plus half of a line that was never acknowledged.
	s.release()
	log := filepath.Join(dir, ".vroot", "meta")
	full := metaLine('S', inoOf(t, g), &Attr{Uid: 9, Mode: syscall.S_IFREG | 0o644})
	fh, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteString(full[:len(full)/2])
	fh.Close()

	s, err = OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := attrOf(t, s, f); !ok || !reflect.DeepEqual(got, af) {
		t.Errorf("acknowledged record: got %+v %v, want %+v", got, ok, af)
	}
	if got, ok := attrOf(t, s, g); ok {
		t.Errorf("torn record applied: %+v", got)
	}
	ag := Attr{Uid: 3, Gid: 4, Mode: syscall.S_IFREG | 0o1777}
	if err := s.SetAttr(inoOf(t, g), ag); err != nil {
		t.Fatal(err)
	}
	s.release()
	s, err = OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, ok := attrOf(t, s, g); !ok || !reflect.DeepEqual(got, ag) {
		t.Errorf("record after the cut: got %+v %v, want %+v", got, ok, ag)
	}
	// Opening compacted the log to one line per record.
	b, _ := os.ReadFile(log)
	if bytes.Count(b, []byte("\n")) != 2 {
		t.Fatalf("compacted log: %q", b)
	}
}

func TestMetaCorruptMiddle(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(s.Root(), "f")
	os.WriteFile(f, nil, 0o644)
	s.SetAttr(inoOf(t, f), Attr{Mode: syscall.S_IFREG | 0o644})
	s.release()
	log := filepath.Join(dir, ".vroot", "meta")
	good, _ := os.ReadFile(log)
	// A complete last line with a bad checksum is a torn append too.
	os.WriteFile(log, append(append([]byte{}, good...), "S 1 2 3 644 0 0 00000000\n"...), 0o644)
	s, err = OpenStage(dir)
	if err != nil {
		t.Fatalf("a torn last line refused: %v", err)
	}
	if _, ok := s.AttrIno(inoOf(t, f)); !ok {
		t.Error("the record before a torn last line was lost")
	}
	s.release()
	b := append([]byte("S 1 2 3 644 0 0 00000000\n"), good...)
	os.WriteFile(log, b, 0o644)
	if s, err := OpenStage(dir); err == nil {
		s.Close()
		t.Fatal("a corrupt record before valid ones was accepted")
	}
}

// The record is keyed by inode: it follows rename and link, survives the
// unlink of one of two links, and is forgotten when the file is gone.
func TestMetaFollowsFile(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(s.Root(), "a")
	os.WriteFile(a, nil, 0o644)
	want := Attr{Uid: 0, Gid: 60, Mode: syscall.S_IFREG | 0o2755}
	if err := s.SetAttr(inoOf(t, a), want); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(s.Root(), "b")
	c := filepath.Join(s.Root(), "c")
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(b, c); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{b, c} {
		if got, ok := attrOf(t, s, p); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v %v", p, got, ok)
		}
	}
	os.Remove(b)
	s.Close()
	s, err = OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := attrOf(t, s, c); !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("after unlinking one link and reopening: got %+v %v", got, ok)
	}
	ino := inoOf(t, c)
	if err := s.DropAttr(ino); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.AttrIno(ino); ok {
		t.Error("dropped record still there")
	}
	s.SetAttr(ino, want)
	// Removed while no vroot traced: opening forgets it.
	os.Remove(c)
	s.Close()
	s, err = OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.AttrIno(ino); ok {
		t.Error("record of a file removed between runs survived the reopen")
	}
}

func TestMetaLineRoundTrip(t *testing.T) {
	for _, a := range []Attr{
		{},
		{Uid: 1<<32 - 1, Gid: 5, Mode: 0o170777, Rdev: 1 << 40},
		{Xattrs: map[string][]byte{`we"ird name`: []byte("v\n"), "security.capability": {0}}},
	} {
		line := metaLine('S', 42, &a)
		k, ino, got, ok := parseMetaLine(line[:len(line)-1])
		if !ok || k != 'S' || ino != 42 || !reflect.DeepEqual(got, a) {
			t.Errorf("%q: got %c %d %+v %v", line, k, ino, got, ok)
		}
		bad := []byte(line[:len(line)-1])
		bad[2] ^= 1
		if _, _, _, ok := parseMetaLine(string(bad)); ok {
			t.Errorf("%q: a flipped bit passed the checksum", bad)
		}
	}
}
