package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vroot-dev/vroot/redirect"
)

// cliStage makes a stage holding /usr/bin/hello; journal, if not empty,
// replaces its journal (see redirect.Stage for the records).
func cliStage(t *testing.T, dir, journal string) {
	t.Helper()
	st, err := redirect.OpenStage(dir)
	mustNil(t, err)
	mustNil(t, st.Close())
	mustNil(t, os.MkdirAll(filepath.Join(dir, "root/usr/bin"), 0o755))
	mustNil(t, os.WriteFile(filepath.Join(dir, "root/usr/bin/hello"), []byte("hello\n"), 0o755))
	if journal != "" {
		mustNil(t, os.WriteFile(filepath.Join(dir, ".vroot/journal"), []byte(journal), 0o644))
	}
}

func tarNames(t *testing.T, r io.Reader) []string {
	t.Helper()
	tr := tar.NewReader(r)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		mustNil(t, err)
		names = append(names, h.Name)
		checkEq(t, h.ModTime.Unix(), int64(1234567890), "%s: mtime", h.Name)
	}
}

func TestPackCommand(t *testing.T) {
	cwd, _ := inTempHome(t)
	cliStage(t, "st", "")
	t.Setenv("SOURCE_DATE_EPOCH", "1234567890")
	r := runMain(t, "pack", "st", "-o", "out.tgz.part", "--format", "tar.gz", "--mtree", "out.mtree")
	checkEq(t, r.code, 0, "stderr %q", r.stderr)
	checkEq(t, r.stderr, "")
	checkEq(t, r.stdout, "vroot: packed st into out.tgz.part (tar.gz, 3 entries)\n")
	f, err := os.Open("out.tgz.part")
	mustNil(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	mustNil(t, err)
	mustSlice(t, tarNames(t, gz), []string{"./usr/", "./usr/bin/", "./usr/bin/hello"})
	man, err := os.ReadFile("out.mtree")
	mustNil(t, err)
	checkf(t, strings.HasPrefix(string(man), "#mtree\n. type=dir\n./usr type=dir"), "manifest %q", man)
	checkContains(t, string(man), "./usr/bin/hello type=file uid=0 gid=0 mode=0755 time=1234567890.000000000 size=6 sha256digest=")
	ents, err := os.ReadDir(cwd)
	mustNil(t, err)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	mustSlice(t, left, []string{"out.mtree", "out.tgz.part", "st"})

	// The same stage, the same bytes; interleaved flags, plain tar.
	a := runMain(t, "pack", "-o", "a.tar", "st")
	b := runMain(t, "pack", "st", "--output=b.tar")
	checkEq(t, a.code+b.code, 0, "%q %q", a.stderr, b.stderr)
	ab, _ := os.ReadFile("a.tar")
	bb, _ := os.ReadFile("b.tar")
	checkf(t, len(ab) > 0 && bytes.Equal(ab, bb), "two packs differ")

	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	r = runMain(t, "pack", "st", "-o", "c.tar")
	checkEq(t, r.code, 125)
	checkEq(t, r.stderr, `vroot: SOURCE_DATE_EPOCH="yesterday": want a non-negative number of seconds`+"\n")

	t.Setenv("SOURCE_DATE_EPOCH", "")
	r = runMain(t, "pack", "st", "-o", "st/root/self.tar")
	checkEq(t, r.code, 125)
	checkContains(t, r.stderr, "is inside the stage")
}

func TestPackCommandDeletions(t *testing.T) {
	inTempHome(t)
	cliStage(t, "st", "W /etc/motd\nW /etc/issue\n")
	r := runMain(t, "pack", "st", "-o", "x.tar", "--mtree", "x.mtree")
	checkEq(t, r.code, 125)
	checkEq(t, r.stdout, "")
	checkEq(t, r.stderr, "vroot: pack st: the build deleted 2 host path(s), which an archive cannot carry:\n  /etc/issue\n  /etc/motd\n"+
		"(an archive only adds files: --allow-deletions packs without them)\n")
	for _, f := range []string{"x.tar", "x.mtree"} {
		_, err := os.Lstat(f)
		checkf(t, os.IsNotExist(err), "%s written on refusal: %v", f, err)
	}
	ents, _ := os.ReadDir(".")
	checkEq(t, len(ents), 1, "only the stage is left: %v", ents)

	r = runMain(t, "pack", "st", "-o", "x.tar", "--mtree", "x.mtree", "--allow-deletions")
	checkEq(t, r.code, 0, "stderr %q", r.stderr)
	checkEq(t, r.stdout, "vroot: packed st into x.tar (tar, 3 entries)\n"+
		"vroot: not in the archive, deleted by the build: /etc/issue\n"+
		"vroot: not in the archive, deleted by the build: /etc/motd\n")
	man, err := os.ReadFile("x.mtree")
	mustNil(t, err)
	checkf(t, strings.HasPrefix(string(man), "#mtree\n# vroot: deleted: ./etc/issue\n# vroot: deleted: ./etc/motd\n. type=dir\n"), "manifest %q", man)
}

func TestPackCommandInUse(t *testing.T) {
	inTempHome(t)
	cliStage(t, "st", "")
	st, err := redirect.OpenStage("st")
	mustNil(t, err)
	defer st.Close()
	r := runMain(t, "pack", "st", "-o", "x.tar")
	checkEq(t, r.code, 125)
	checkContains(t, r.stderr, "vroot: pack st: stage st is in use by another vroot (pid ")
	_, err = os.Lstat("x.tar")
	checkf(t, os.IsNotExist(err), "x.tar written: %v", err)
}
