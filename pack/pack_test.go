package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

func mkfile(t *testing.T, root, rel, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// sampleTree is a small staged tree: nested dirs whose names sort
// differently by component and by byte, a setuid file, a symlink, a FIFO
// and a hard link whose names sort the other way round from their
// creation.
func sampleTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mkfile(t, root, "usr/bin/hello", "hello binary\n", 0o755)
	mkfile(t, root, "usr/bin/su", "setuid\n", 0o755|os.ModeSetuid)
	mkfile(t, root, "usr/bin-x/a", "a\n", 0o644)
	mkfile(t, root, "usr/bin.d/b", "b\n", 0o600)
	mkfile(t, root, "usr/share/doc/z", "linked\n", 0o644)
	if err := os.Link(filepath.Join(root, "usr/share/doc/z"), filepath.Join(root, "usr/bin/a-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("hello", filepath.Join(root, "usr/bin/hi")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "usr/fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "usr/fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	return root
}

type got struct {
	hdr  *tar.Header
	data string
}

// readBack unpacks an archive of format f with archive/tar.
func readBack(t *testing.T, f Format, b []byte) []got {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	switch f {
	case TarGz:
		gz, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		if gz.Name != "" || !gz.ModTime.IsZero() {
			t.Errorf("gzip header: name %q mtime %v, want none", gz.Name, gz.ModTime)
		}
		r = gz
	case TarZst:
		z, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		r = z
	}
	tr := tar.NewReader(r)
	var out []got
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got{h, string(d)})
	}
	return out
}

func packTree(t *testing.T, root string, opt Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := Tree(root, nil, &b, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func byName(es []got) map[string]*tar.Header {
	m := map[string]*tar.Header{}
	for _, e := range es {
		m[e.hdr.Name] = e.hdr
	}
	return m
}

func TestTreeEntries(t *testing.T) {
	root := sampleTree(t)
	es := readBack(t, Tar, packTree(t, root, Options{}))
	var names []string
	for _, e := range es {
		names = append(names, e.hdr.Name)
	}
	want := []string{
		"./usr/", "./usr/bin/", "./usr/bin-x/", "./usr/bin-x/a", "./usr/bin.d/", "./usr/bin.d/b",
		"./usr/bin/a-link", "./usr/bin/hello", "./usr/bin/hi", "./usr/bin/su", "./usr/fifo",
		"./usr/share/", "./usr/share/doc/", "./usr/share/doc/z",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("entries:\n%q\nwant\n%q", names, want)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if parent := filepath.Dir(strings.TrimPrefix(strings.TrimSuffix(n, "/"), "./")); parent != "." && !seen["./"+parent+"/"] {
			t.Errorf("%s comes before its parent", n)
		}
		seen[n] = true
	}
	h := byName(es)
	for n, e := range h {
		if e.Uid != 0 || e.Gid != 0 || e.Uname != "root" || e.Gname != "root" {
			t.Errorf("%s: owner %d:%d (%q:%q), want 0:0 root:root", n, e.Uid, e.Gid, e.Uname, e.Gname)
		}
		if !e.AccessTime.IsZero() || !e.ChangeTime.IsZero() {
			t.Errorf("%s: atime %v ctime %v, want none", n, e.AccessTime, e.ChangeTime)
		}
	}
	check := func(n string, typ byte, mode int64) {
		t.Helper()
		e := h[n]
		if e == nil {
			t.Fatalf("no %s", n)
		}
		if e.Typeflag != typ || e.Mode != mode {
			t.Errorf("%s: type %q mode %#o, want %q %#o", n, e.Typeflag, e.Mode, typ, mode)
		}
	}
	check("./usr/bin/su", tar.TypeReg, 0o4755)
	check("./usr/bin.d/b", tar.TypeReg, 0o600)
	check("./usr/bin/hi", tar.TypeSymlink, 0o777)
	check("./usr/fifo", tar.TypeFifo, 0o640)
	check("./usr/bin/", tar.TypeDir, 0o755)
	if h["./usr/bin/hi"].Linkname != "hello" {
		t.Errorf("symlink target %q", h["./usr/bin/hi"].Linkname)
	}
	// The hard link: the name first in order holds the contents.
	check("./usr/bin/a-link", tar.TypeReg, 0o644)
	check("./usr/share/doc/z", tar.TypeLink, 0o644)
	if l := h["./usr/share/doc/z"].Linkname; l != "./usr/bin/a-link" {
		t.Errorf("hard link to %q, want ./usr/bin/a-link", l)
	}
	for _, e := range es {
		if e.hdr.Name == "./usr/bin/a-link" && e.data != "linked\n" {
			t.Errorf("a-link contents %q", e.data)
		}
	}
}

func TestTreeAttrs(t *testing.T) {
	root := t.TempDir()
	mkfile(t, root, "dev/null", "", 0o644) // a placeholder, as --fakeroot's mknod leaves
	mkfile(t, root, "usr/games/x", "x\n", 0o755)
	mkfile(t, root, "usr/bin/ping", "ping\n", 0o755)
	mkfile(t, root, "usr/bin/plain", "plain\n", 0o644)
	ino := func(rel string) uint64 {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, rel), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	recs := map[uint64]Attr{
		ino("dev/null"):     {Uid: 0, Gid: 0, Mode: unix.S_IFCHR | 0o666, Rdev: unix.Mkdev(1, 3)},
		ino("usr/games/x"):  {Uid: 0, Gid: 60, Mode: unix.S_IFREG | 0o2755},
		ino("usr/games"):    {Uid: 65534, Gid: 60, Mode: unix.S_IFDIR | 0o775},
		ino("usr/bin/ping"): {Mode: unix.S_IFREG | 0o755, Xattrs: map[string][]byte{"security.capability": {1, 0, 0, 2, 0, 0x20}, "user.b": []byte("v")}},
	}
	attrs := func(fi fs.FileInfo) (Attr, bool) {
		a, ok := recs[fi.Sys().(*syscall.Stat_t).Ino]
		return a, ok
	}
	var man bytes.Buffer
	es := readBack(t, Tar, packTree(t, root, Options{Attrs: attrs, Mtree: &man}))
	h := byName(es)
	for _, want := range []string{
		"\n./dev/null type=char uid=0 gid=0 mode=0666 time=",
		"\n./usr/games type=dir uid=65534 gid=60 mode=0775 time=",
		"\n./usr/games/x type=file uid=0 gid=60 mode=2755 time=",
	} {
		if !strings.Contains(man.String(), want) {
			t.Errorf("manifest lacks %q:\n%s", want, man.String())
		}
	}
	if !strings.Contains(man.String(), " device=native,1,3\n") {
		t.Errorf("manifest lacks /dev/null's device:\n%s", man.String())
	}
	if e := h["./dev/null"]; e.Typeflag != tar.TypeChar || e.Devmajor != 1 || e.Devminor != 3 || e.Mode != 0o666 || e.Size != 0 {
		t.Errorf("/dev/null: type %q %d,%d mode %#o size %d, want char 1,3 0666", e.Typeflag, e.Devmajor, e.Devminor, e.Mode, e.Size)
	}
	if e := h["./usr/games/x"]; e.Uid != 0 || e.Gid != 60 || e.Gname != "" || e.Uname != "root" || e.Mode != 0o2755 || e.Typeflag != tar.TypeReg {
		t.Errorf("x: %d:%d (%q:%q) mode %#o", e.Uid, e.Gid, e.Uname, e.Gname, e.Mode)
	}
	if e := h["./usr/games/"]; e.Uid != 65534 || e.Gid != 60 || e.Uname != "" || e.Mode != 0o775 || e.Typeflag != tar.TypeDir {
		t.Errorf("games: %d:%d (%q) mode %#o", e.Uid, e.Gid, e.Uname, e.Mode)
	}
	e := h["./usr/bin/ping"]
	if got := e.PAXRecords["SCHILY.xattr.security.capability"]; got != "\x01\x00\x00\x02\x00\x20" {
		t.Errorf("ping capability %q; records %q", got, e.PAXRecords)
	}
	if got := e.PAXRecords["SCHILY.xattr.user.b"]; got != "v" {
		t.Errorf("ping user.b %q", got)
	}
	if e := h["./usr/bin/plain"]; e.Uid != 0 || e.Mode != 0o644 || len(e.PAXRecords) != 0 {
		t.Errorf("plain (no record): %d mode %#o records %q", e.Uid, e.Mode, e.PAXRecords)
	}
}

func TestTreeClamp(t *testing.T) {
	root := t.TempDir()
	old := time.Unix(1000000000, 500)
	newer := time.Unix(1700000000, 0)
	for rel, mt := range map[string]time.Time{"old": old, "new": newer} {
		p := mkfile(t, root, rel, rel, 0o644)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	epoch := time.Unix(1500000000, 0)
	h := byName(readBack(t, Tar, packTree(t, root, Options{SourceDateEpoch: &epoch})))
	if got := h["./old"].ModTime.Unix(); got != 1000000000 {
		t.Errorf("old: mtime %d, want 1000000000 (older than the epoch: kept, in seconds)", got)
	}
	if got := h["./new"].ModTime.Unix(); got != 1500000000 {
		t.Errorf("new: mtime %d, want the epoch 1500000000", got)
	}
	h = byName(readBack(t, Tar, packTree(t, root, Options{})))
	if got := h["./new"].ModTime.Unix(); got != 1700000000 {
		t.Errorf("without an epoch: mtime %d, want 1700000000", got)
	}
}

// Every format reads back, and packing again gives the same bytes, also
// from a copy made at another time (other inodes, other mtimes, all after
// the epoch).
func TestTreeDeterministic(t *testing.T) {
	a := sampleTree(t)
	epoch := time.Unix(1600000000, 0)
	for _, f := range []Format{Tar, TarGz, TarZst} {
		t.Run(f.String(), func(t *testing.T) {
			b1 := packTree(t, a, Options{Format: f, SourceDateEpoch: &epoch})
			b2 := packTree(t, a, Options{Format: f, SourceDateEpoch: &epoch})
			if !bytes.Equal(b1, b2) {
				t.Fatalf("two packs of one tree differ (%d and %d bytes)", len(b1), len(b2))
			}
			es := readBack(t, f, b1)
			if len(es) != 14 {
				t.Errorf("%d entries read back, want 14", len(es))
			}
			for _, e := range es {
				if e.hdr.Name == "./usr/bin/hello" && e.data != "hello binary\n" {
					t.Errorf("hello: %q", e.data)
				}
				if e.hdr.ModTime.Unix() != epoch.Unix() {
					t.Errorf("%s: mtime %v, want the epoch", e.hdr.Name, e.hdr.ModTime)
				}
			}
			time.Sleep(1100 * time.Millisecond) // another second of mtimes
			b := sampleTree(t)
			b3 := packTree(t, b, Options{Format: f, SourceDateEpoch: &epoch})
			if !bytes.Equal(b1, b3) {
				t.Errorf("the same tree made again packs differently")
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]Format{"a.tar": Tar, "dir.x/a.tar.gz": TarGz, "A.TGZ": TarGz, "a.tar.zst": TarZst, "a.tzst": TarZst} {
		f, err := FormatOf(name)
		if err != nil || f != want {
			t.Errorf("FormatOf(%q) = %v, %v; want %v", name, f, err, want)
		}
	}
	for _, name := range []string{"a.zip", "a.tar.xz", ".tar", "tar", "a.gz"} {
		if _, err := FormatOf(name); err == nil {
			t.Errorf("FormatOf(%q): no error", name)
		}
	}
	for s, want := range map[string]Format{"tar": Tar, "tar.gz": TarGz, "tar.zst": TarZst} {
		if f, err := ParseFormat(s); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %v, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("zip"); err == nil {
		t.Error("ParseFormat(zip): no error")
	}
}

func TestMtree(t *testing.T) {
	root := sampleTree(t)
	mkfile(t, root, "odd dir/a=b#c\\d", "odd\n", 0o644)
	epoch := time.Unix(1600000000, 0)
	var man bytes.Buffer
	dels := []Deletion{{Path: "/etc/motd"}, {Path: "/usr/share/x y", Opaque: true}}
	res, err := Tree(root, dels, io.Discard, Options{Mtree: &man, SourceDateEpoch: &epoch, AllowDeletions: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Deletions, dels) {
		t.Errorf("Result.Deletions %v", res.Deletions)
	}
	lines := strings.Split(strings.TrimSuffix(man.String(), "\n"), "\n")
	if lines[0] != "#mtree" {
		t.Fatalf("first line %q", lines[0])
	}
	sum := sha256.Sum256([]byte("hello binary\n"))
	for _, want := range []string{
		"# vroot: deleted: ./etc/motd",
		`# vroot: replaced directory (the host's entries below it are deleted): ./usr/share/x\040y`,
		". type=dir",
		"./usr/bin/hello type=file uid=0 gid=0 mode=0755 time=1600000000.000000000 size=13 sha256digest=" + hex.EncodeToString(sum[:]),
		"./usr/bin/su type=file uid=0 gid=0 mode=4755 time=1600000000.000000000 size=7 sha256digest=",
		"./usr/bin/hi type=link uid=0 gid=0 mode=0777 time=1600000000.000000000 link=hello",
		"./usr/fifo type=fifo uid=0 gid=0 mode=0640 time=1600000000.000000000",
		"./usr/bin type=dir uid=0 gid=0 mode=0755 time=1600000000.000000000",
		"./usr/share/doc/z type=file uid=0 gid=0 mode=0644 time=1600000000.000000000 size=7 sha256digest=",
		`./odd\040dir/a\075b\043c\134d type=file`,
	} {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line starting %q in\n%s", want, man.String())
		}
	}
	if n := len(lines); n != 1+2+1+res.Entries {
		t.Errorf("%d lines for %d entries and 2 deletions", n, res.Entries)
	}

	// libarchive reads it back: every path, the owners and the types.
	bsdtar := tool(t, "bsdtar", "libarchive-tools")
	dir := t.TempDir() // empty: bsdtar completes entries from files it finds
	manifest := mkfile(t, dir, "m.mtree", man.String(), 0o644)
	cmd := exec.Command(bsdtar, "-tvf", manifest)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bsdtar -tvf: %v\n%s", err, out)
	}
	for _, want := range []string{
		"-rwsr-xr-x  0 0      0           7 Sep 13  2020 ./usr/bin/su",
		"lrwxrwxrwx  0 0      0           0 Sep 13  2020 ./usr/bin/hi -> hello",
		`./odd dir/a=b#c\\d`, // bsdtar shows a backslash doubled
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("bsdtar -tvf lacks %q:\n%s", want, out)
		}
	}
}

// tool finds a command that a test needs: missing, the test fails under
// CI and is skipped elsewhere.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatalf("%s is missing (Debian package %s)", name, pkg)
	}
	t.Skipf("%s is missing (Debian package %s)", name, pkg)
	return ""
}

func TestTreeDeletionsRefused(t *testing.T) {
	root := sampleTree(t)
	var b, man bytes.Buffer
	_, err := Tree(root, []Deletion{{Path: "/etc/motd"}}, &b, Options{Mtree: &man})
	var de *DeletionsError
	if !errors.As(err, &de) || len(de.Deletions) != 1 || !strings.Contains(err.Error(), "\n  /etc/motd") {
		t.Fatalf("err = %v, want a DeletionsError listing /etc/motd", err)
	}
	if b.Len() != 0 || man.Len() != 0 {
		t.Errorf("wrote %d archive and %d manifest bytes on refusal", b.Len(), man.Len())
	}
}

// newStage makes a stage whose journal says what the build deleted, as
// the overlay journals it (see redirect.Stage).
func newStage(t *testing.T, journal string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "st")
	st, err := redirect.OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	mkfile(t, dir, "root/usr/bin/hello", "hello\n", 0o755)
	if err := os.MkdirAll(filepath.Join(dir, "root/usr/share/doc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".vroot/journal"), []byte(journal), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStageDeletions(t *testing.T) {
	dir := newStage(t, "W /etc/motd\nW /usr/share/doc\nU /usr/share/doc\nO /usr/share/doc\nC /usr/share/doc\nC /usr\n")
	_, err := Stage(dir, io.Discard, Options{})
	var de *DeletionsError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a DeletionsError", err)
	}
	want := []Deletion{{Path: "/etc/motd"}, {Path: "/usr/share/doc", Opaque: true}}
	if !slices.Equal(de.Deletions, want) {
		t.Errorf("deletions %v, want %v", de.Deletions, want)
	}
	var b bytes.Buffer
	res, err := Stage(dir, &b, Options{AllowDeletions: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Deletions, want) {
		t.Errorf("deletions %v, want %v", res.Deletions, want)
	}
	var names []string
	for _, e := range readBack(t, Tar, b.Bytes()) {
		names = append(names, e.hdr.Name)
	}
	if w := []string{"./usr/", "./usr/bin/", "./usr/bin/hello", "./usr/share/", "./usr/share/doc/"}; !slices.Equal(names, w) {
		t.Errorf("entries %q, want %q (nothing of .vroot/)", names, w)
	}
}

func TestStageRefusals(t *testing.T) {
	dir := newStage(t, "")
	st, err := redirect.OpenStage(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := Stage(dir, &b, Options{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("packing a stage in use: %v, want refused", err)
	}
	st.Close()
	if b.Len() != 0 {
		t.Errorf("wrote %d bytes", b.Len())
	}
	if _, err := Stage(dir, &b, Options{}); err != nil {
		t.Errorf("packing once it is free: %v", err)
	}
	empty := t.TempDir()
	if _, err := Stage(empty, &b, Options{}); err == nil || !strings.Contains(err.Error(), "not a vroot stage") {
		t.Errorf("packing a plain directory: %v", err)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("packing a plain directory made it a stage")
	}
}
