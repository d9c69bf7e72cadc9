package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vroot-dev/vroot/pack"
)

// cmdPack is `vroot pack STAGE -o FILE ...`, whose words are its own.
const cmdPack = "pack"

const packUsageLine = "vroot pack STAGE -o FILE [--format tar|tar.gz|tar.zst] [--mtree FILE] [--allow-deletions]"

func packUsage() string {
	return "Usage:\n  " + packUsageLine + `
        pack the stage into FILE (format from its extension: .tar, .tar.gz,
        .tar.zst), sorted, owned by root unless the stage recorded other
        owners, mtimes clamped to $SOURCE_DATE_EPOCH when it is set: the
        same stage packs to the same bytes. The stage must not be in use.

Flags:
  -o, --output FILE    the archive
  --format FORMAT      tar, tar.gz or tar.zst, whatever FILE's extension
  --mtree FILE         also write a BSD mtree manifest of the archive
  --allow-deletions    pack even though the build deleted host files (an
                       archive cannot delete them): they are listed, and
                       in the manifest as "# vroot: deleted: PATH" comments
`
}

// packSpec is what to write and how; shared by `vroot pack` and a run's
// --output.
type packSpec struct {
	output, format, mtree string
	allowDeletions        bool
}

// formatOf is --format if given, else the output's extension.
func (s packSpec) formatOf() (pack.Format, error) {
	if s.format != "" {
		return pack.ParseFormat(s.format)
	}
	return pack.FormatOf(s.output)
}

// packCommand runs `vroot pack ARGS...`.
func packCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("pack", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var s packSpec
	var help bool
	fs.Var(&onceValue{p: &s.output}, "o", "")
	fs.Var(&onceValue{p: &s.output}, "output", "")
	fs.Var(&onceValue{p: &s.format}, "format", "")
	fs.Var(&onceValue{p: &s.mtree}, "mtree", "")
	fs.BoolVar(&s.allowDeletions, "allow-deletions", false, "")
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&help, "help", false, "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return fmt.Errorf("pack: %w (see vroot pack -h)", err)
	}
	if help || (len(pos) == 1 && pos[0] == "help") {
		_, err := io.WriteString(stdout, packUsage())
		return err
	}
	switch {
	case len(pos) == 0:
		return errors.New("pack: usage: " + packUsageLine)
	case len(pos) > 1:
		return fmt.Errorf("pack: unexpected argument %q", pos[1])
	case s.output == "":
		return errors.New("pack: no archive named: give -o FILE")
	}
	return packStage(pos[0], s, stdout)
}

// packStage packs the stage at dir as s says and reports on w. The
// archive and the manifest appear complete or not at all.
func packStage(dir string, s packSpec, w io.Writer) error {
	format, err := s.formatOf()
	if err != nil {
		return err
	}
	epoch, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, ".vroot", "format")); err != nil {
		return fmt.Errorf("pack %s: %s is not a vroot stage", dir, dir)
	}
	for _, out := range []string{s.output, s.mtree} {
		if out != "" && inside(out, dir) {
			return fmt.Errorf("pack: %s is inside the stage %s", out, dir)
		}
	}
	archive, err := newAtomicFile(s.output)
	if err != nil {
		return err
	}
	defer archive.abort()
	opt := pack.Options{Format: format, SourceDateEpoch: epoch, AllowDeletions: s.allowDeletions}
	var manifest *atomicFile
	if s.mtree != "" {
		if manifest, err = newAtomicFile(s.mtree); err != nil {
			return err
		}
		defer manifest.abort()
		opt.Mtree = manifest.f
	}
	res, err := pack.Stage(dir, archive.f, opt)
	var de *pack.DeletionsError
	if errors.As(err, &de) {
		return fmt.Errorf("pack %s: %w\n(an archive only adds files: --allow-deletions packs without them)", dir, err)
	}
	if err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := archive.commit(); err != nil {
		return err
	}
	if manifest != nil {
		if err := manifest.commit(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "vroot: packed %s into %s (%s, %d entries)\n", dir, s.output, format, res.Entries)
	for _, d := range res.Deletions {
		fmt.Fprintf(w, "vroot: not in the archive, deleted by the build: %s\n", d)
	}
	for _, p := range res.Skipped {
		fmt.Fprintf(w, "vroot: not in the archive, a socket: %s\n", p)
	}
	return nil
}

// sourceDateEpoch reads $SOURCE_DATE_EPOCH (reproducible-builds.org):
// unset or empty means no clamping.
func sourceDateEpoch() (*time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds", v)
	}
	t := time.Unix(n, 0)
	return &t, nil
}

// inside reports whether path p is at or below dir, symlinks resolved as
// far as they exist.
func inside(p, dir string) bool {
	canon := func(q string) string {
		q, err := filepath.Abs(q)
		if err != nil {
			return q
		}
		rest := ""
		for {
			if r, err := filepath.EvalSymlinks(q); err == nil {
				return filepath.Join(r, rest)
			}
			parent := filepath.Dir(q)
			if parent == q {
				return filepath.Join(q, rest)
			}
			rest = filepath.Join(filepath.Base(q), rest)
			q = parent
		}
	}
	rel, err := filepath.Rel(canon(dir), canon(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// atomicFile is written under a temporary name beside its final one and
// renamed into place by commit.
type atomicFile struct {
	name string
	f    *os.File
	done bool
}

func newAtomicFile(name string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary name means nothing to the user
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &atomicFile{name: name, f: f}, nil
}

func (a *atomicFile) commit() error {
	if err := a.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(a.f.Name(), a.name); err != nil {
		return err
	}
	a.done = true
	return nil
}

func (a *atomicFile) abort() {
	if !a.done {
		a.f.Close()
		os.Remove(a.f.Name())
	}
}
