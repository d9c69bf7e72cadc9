// Package pack owns turning a stage into what is shipped: a deterministic
// tar archive (plain, gzip or zstd) of the staged tree, and its BSD mtree
// manifest. The archive is meant to be unpacked over a target root, so it
// carries what the build meant rather than what the disk holds: owners
// (0:0 unless the stage's metadata store recorded others), modes, device
// nodes and xattrs from the store (Options.Attrs), hard links as links,
// and mtimes clamped to SOURCE_DATE_EPOCH. The same stage packs to the
// same bytes; so do two stages built from the same sources.
//
// What an archive cannot carry is a deletion: a host file the build
// removed (a whiteout) or a host directory whose entries it hid (an opaque
// directory). Packing a stage that has any fails, listing them, unless
// Options.AllowDeletions: then they are left out, and listed in the
// manifest as comments and in the Result.
package pack

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/redirect"
)

// Format is an archive format.
type Format int

const (
	Tar    Format = iota + 1 // .tar
	TarGz                    // .tar.gz: gzip, no name, zero mtime in its header
	TarZst                   // .tar.zst: zstd, one encoder goroutine
)

func (f Format) String() string {
	switch f {
	case Tar:
		return "tar"
	case TarGz:
		return "tar.gz"
	case TarZst:
		return "tar.zst"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses a --format value: tar, tar.gz or tar.zst (and the
// short tgz, tzst).
func ParseFormat(s string) (Format, error) {
	switch s {
	case "tar":
		return Tar, nil
	case "tar.gz", "tgz":
		return TarGz, nil
	case "tar.zst", "tzst":
		return TarZst, nil
	}
	return 0, fmt.Errorf("unknown archive format %q: want tar, tar.gz or tar.zst", s)
}

// FormatOf tells the format from a file name's extension.
func FormatOf(name string) (Format, error) {
	base := strings.ToLower(filepath.Base(name))
	for _, e := range []struct {
		ext string
		f   Format
	}{{".tar", Tar}, {".tar.gz", TarGz}, {".tgz", TarGz}, {".tar.zst", TarZst}, {".tzst", TarZst}} {
		if strings.HasSuffix(base, e.ext) && len(base) > len(e.ext) {
			return e.f, nil
		}
	}
	return 0, fmt.Errorf("cannot tell the archive format of %q: name it .tar, .tar.gz or .tar.zst, or give --format", name)
}

// Attr is what the stage's metadata store recorded for a staged file (its
// owner and mode as the build set them under --fakeroot): Mode is the full
// st_mode, so a char or block device makes a device entry of what is, on
// disk, a placeholder regular file.
type Attr = redirect.Attr

// Options say how to pack.
type Options struct {
	Format Format // Tar when zero
	// Attrs returns the record of a staged file (fi from lstat), if the
	// store has one. Without a func or a record an entry is owned 0:0
	// and has the mode it has on disk, and no xattrs.
	Attrs func(fi fs.FileInfo) (Attr, bool)
	// SourceDateEpoch, when set, is the latest mtime an entry may have
	// (reproducible-builds.org's SOURCE_DATE_EPOCH).
	SourceDateEpoch *time.Time
	// AllowDeletions packs a stage that deleted host paths, leaving them
	// out; they are listed in the manifest and the Result.
	AllowDeletions bool
	// Mtree, when set, receives the BSD mtree manifest of the archive.
	Mtree io.Writer
}

// Deletion is a host path that the stage deletes and no archive can.
type Deletion struct {
	Path string // guest path
	// Opaque: Path is a staged directory that hides the lower
	// directory's entries (the build removed it and made it again),
	// rather than a path the stage removes.
	Opaque bool
}

func (d Deletion) String() string {
	if d.Opaque {
		return d.Path + " (replaced: the host's entries below it are deleted)"
	}
	return d.Path
}

// Result says what was packed.
type Result struct {
	Entries   int        // tar entries written
	Deletions []Deletion // left out, with AllowDeletions
	Skipped   []string   // guest paths no tar entry can hold (sockets)
}

// DeletionsError is the failure to pack a stage with deletions.
type DeletionsError struct {
	Deletions []Deletion
}

func (e *DeletionsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the build deleted %d host path(s), which an archive cannot carry:", len(e.Deletions))
	for _, d := range e.Deletions {
		b.WriteString("\n  " + d.String())
	}
	return b.String()
}

// Stage packs the stage in dir into w. It opens the stage, which takes its
// lock: a stage another vroot is using is refused.
func Stage(dir string, w io.Writer, opt Options) (Result, error) {
	if _, err := os.Stat(filepath.Join(dir, ".vroot", "format")); err != nil {
		return Result{}, fmt.Errorf("%s is not a vroot stage", dir)
	}
	st, err := redirect.OpenStage(dir)
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	if opt.Attrs == nil {
		// What --fakeroot recorded; a file without a record is 0:0 with
		// its own mode.
		opt.Attrs = st.Attr
	}
	cs, err := st.Status()
	if err != nil {
		return Result{}, fmt.Errorf("stage %s: %w", dir, err)
	}
	var dels []Deletion
	for _, c := range cs {
		switch c.Kind {
		case 'D':
			dels = append(dels, Deletion{Path: c.Path})
		case 'M':
			// A modified directory is an opaque one (see Stage.Status).
			if fi, err := os.Lstat(filepath.Join(st.Root(), filepath.FromSlash(c.Path))); err == nil && fi.IsDir() {
				dels = append(dels, Deletion{Path: c.Path, Opaque: true})
			}
		}
	}
	return Tree(st.Root(), dels, w, opt)
}

// entry is one path of the tree, as found on disk.
type entry struct {
	rel string // slash-separated, relative to the root
	fi  fs.FileInfo
}

// name is the entry's name in the archive and the manifest: "./usr/bin".
func name(rel string) string { return "./" + rel }

type inode struct{ dev, ino uint64 }

// Tree packs the directory root (a stage's root/) into w; deletions are
// what the stage deletes (see Options.AllowDeletions). Nothing is written
// when it fails before the first entry.
func Tree(root string, deletions []Deletion, w io.Writer, opt Options) (Result, error) {
	if len(deletions) > 0 && !opt.AllowDeletions {
		return Result{}, &DeletionsError{Deletions: deletions}
	}
	var ents []entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		ents = append(ents, entry{filepath.ToSlash(p[len(root)+1:]), fi})
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	// Byte order of the whole path: a parent, a prefix of its children's
	// names, always comes first.
	sort.Slice(ents, func(i, j int) bool { return ents[i].rel < ents[j].rel })

	rfs, err := os.OpenRoot(root)
	if err != nil {
		return Result{}, err
	}
	defer rfs.Close()

	format := opt.Format
	if format == 0 {
		format = Tar
	}
	var zw io.WriteCloser
	switch format {
	case Tar:
	case TarGz:
		gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
		if err != nil {
			return Result{}, err
		}
		// The zero Header: no name, mtime 0, OS "unknown".
		zw = gz
	case TarZst:
		// One goroutine: the frame then depends on the input only.
		z, err := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithConcurrentBlocks(false),
			zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
		if err != nil {
			return Result{}, err
		}
		zw = z
	default:
		return Result{}, fmt.Errorf("unknown archive format %v", format)
	}
	out := w
	if zw != nil {
		out = zw
	}
	tw := tar.NewWriter(out)

	p := packer{opt: opt, tw: tw, rfs: rfs, first: map[inode]*tar.Header{}, sums: map[inode]string{}}
	var man *mtree
	if opt.Mtree != nil {
		man = newMtree(opt.Mtree, deletions)
	}
	var res Result
	res.Deletions = deletions
	for _, e := range ents {
		hdr, sum, ok, err := p.add(e)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", "/"+e.rel, err)
		}
		if !ok {
			res.Skipped = append(res.Skipped, "/"+e.rel)
			continue
		}
		res.Entries++
		if man != nil {
			man.entry(hdr, sum)
		}
	}
	if err := tw.Close(); err != nil {
		return Result{}, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return Result{}, err
		}
	}
	if man != nil {
		if err := man.close(); err != nil {
			return Result{}, fmt.Errorf("mtree: %w", err)
		}
	}
	return res, nil
}

type packer struct {
	opt   Options
	tw    *tar.Writer
	rfs   *os.Root
	first map[inode]*tar.Header // a multiply-linked inode's first entry
	sums  map[inode]string      // and its sha256
	h     hash.Hash
	buf   []byte
}

// add writes e's tar entry. It returns the header, the sha256 of a
// regular file's contents, and false for what a tar cannot hold.
func (p *packer) add(e entry) (*tar.Header, string, bool, error) {
	fi := e.fi
	mode := fi.Mode()
	hdr := &tar.Header{
		Name:    name(e.rel),
		Mode:    int64(unixPerm(mode)),
		ModTime: p.mtime(fi),
		Format:  tar.FormatPAX,
	}
	var id inode
	linked := false
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 && !fi.IsDir() {
		id, linked = inode{uint64(st.Dev), st.Ino}, true
	}
	if linked {
		if f, ok := p.first[id]; ok {
			l := *f
			l.Name, l.Typeflag, l.Linkname, l.Size = hdr.Name, tar.TypeLink, f.Name, 0
			l.Devmajor, l.Devminor = 0, 0
			l.PAXRecords = nil
			if err := p.tw.WriteHeader(&l); err != nil {
				return nil, "", false, err
			}
			// Described in the manifest as the file it is a name of.
			m := *f
			m.Name = hdr.Name
			return &m, p.sums[id], true, nil
		}
	}
	switch {
	case mode.IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
	case mode.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
	case mode&fs.ModeSymlink != 0:
		target, err := p.rfs.Readlink(e.rel)
		if err != nil {
			return nil, "", false, err
		}
		hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, target, 0o777
	case mode&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	case mode&fs.ModeDevice != 0:
		// A device the build could make for real (it never can unprivileged,
		// but the stage may have been written by root).
		hdr.Typeflag = tar.TypeBlock
		if mode&fs.ModeCharDevice != 0 {
			hdr.Typeflag = tar.TypeChar
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			hdr.Devmajor, hdr.Devminor = int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev)))
		}
	default:
		return nil, "", false, nil // a socket
	}
	if p.opt.Attrs != nil {
		if a, ok := p.opt.Attrs(fi); ok {
			hdr.Uid, hdr.Gid = int(a.Uid), int(a.Gid)
			if hdr.Typeflag != tar.TypeSymlink {
				hdr.Mode = int64(a.Mode & 0o7777)
			}
			switch a.Mode & unix.S_IFMT {
			case unix.S_IFCHR, unix.S_IFBLK:
				hdr.Typeflag = tar.TypeChar
				if a.Mode&unix.S_IFMT == unix.S_IFBLK {
					hdr.Typeflag = tar.TypeBlock
				}
				hdr.Size, hdr.Linkname = 0, ""
				hdr.Devmajor, hdr.Devminor = int64(unix.Major(a.Rdev)), int64(unix.Minor(a.Rdev))
			}
			if len(a.Xattrs) > 0 {
				hdr.PAXRecords = map[string]string{}
				for k, v := range a.Xattrs {
					hdr.PAXRecords["SCHILY.xattr."+k] = string(v)
				}
			}
		}
	}
	if hdr.Uid == 0 {
		hdr.Uname = "root"
	}
	if hdr.Gid == 0 {
		hdr.Gname = "root"
	}
	if err := p.tw.WriteHeader(hdr); err != nil {
		return nil, "", false, err
	}
	var sum string
	if hdr.Typeflag == tar.TypeReg {
		var err error
		if sum, err = p.copy(e.rel, hdr.Size); err != nil {
			return nil, "", false, err
		}
	}
	if linked {
		p.first[id], p.sums[id] = hdr, sum
	}
	return hdr, sum, true, nil
}

// copy writes the contents of rel, exactly size bytes, and returns their
// sha256.
func (p *packer) copy(rel string, size int64) (string, error) {
	f, err := p.rfs.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if p.h == nil {
		p.h, p.buf = sha256.New(), make([]byte, 256<<10)
	}
	p.h.Reset()
	n, err := io.CopyBuffer(io.MultiWriter(p.tw, p.h), io.LimitReader(f, size), p.buf)
	if err != nil {
		return "", err
	}
	if n != size {
		return "", errors.New("file shrank while it was packed")
	}
	return hex.EncodeToString(p.h.Sum(nil)), nil
}

// mtime is fi's mtime in whole seconds, clamped.
func (p *packer) mtime(fi fs.FileInfo) time.Time {
	t := time.Unix(fi.ModTime().Unix(), 0)
	if e := p.opt.SourceDateEpoch; e != nil && t.After(*e) {
		t = time.Unix(e.Unix(), 0)
	}
	return t
}

// unixPerm is the permission bits of m as st_mode has them.
func unixPerm(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}
