package redirect

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Attr is what --fakeroot records about a staged file: what the build
// asked for and an unprivileged user cannot do for real. Mode is a full
// st_mode (type bits and permission bits, setuid/setgid/sticky included):
// a device node the build made is staged as an empty regular file whose
// record says S_IFCHR or S_IFBLK, with its Rdev.
type Attr struct {
	Uid, Gid uint32
	Mode     uint32
	Rdev     uint64
	Xattrs   map[string][]byte
}

// The metadata store lives in STAGE/.vroot/meta, next to the journal. It
// is keyed by the inode number of the staged host file, so a record
// follows its file through rename and link without any bookkeeping; the
// tracer drops a record when the build removes the file's last link. It
// is an append-only log, one record a line:
//
//	S <ino> <uid> <gid> <mode octal> <rdev> <n> [<name quoted> <value hex>]*n <crc32 hex>
//	D <ino> <crc32 hex>
//
// S sets the whole record of an inode, D drops it. The CRC covers the line
// up to the space before it. Each append is fsync'ed before the call that
// made it returns (before the syscall is acknowledged to the build), so an
// acknowledged record survives a crash; a torn last line is cut off when
// the stage opens. Opening also compacts the log: records of inodes no
// longer present under root/ (files removed while no vroot traced, or a
// drop that a crash lost) are forgotten, and the log is rewritten with one
// S line per record.

const metaName = "meta"

// metaLine formats one log line.
func metaLine(kind byte, ino uint64, a *Attr) string {
	var b strings.Builder
	b.WriteByte(kind)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(ino, 10))
	if kind == 'S' {
		fmt.Fprintf(&b, " %d %d %o %d %d", a.Uid, a.Gid, a.Mode, a.Rdev, len(a.Xattrs))
		names := make([]string, 0, len(a.Xattrs))
		for n := range a.Xattrs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			b.WriteByte(' ')
			b.WriteString(strconv.Quote(n))
			b.WriteByte(' ')
			v := hex.EncodeToString(a.Xattrs[n])
			if v == "" {
				v = "-"
			}
			b.WriteString(v)
		}
	}
	sum := crc32.ChecksumIEEE([]byte(b.String()))
	fmt.Fprintf(&b, " %08x\n", sum)
	return b.String()
}

// parseMetaLine parses one line without its newline.
func parseMetaLine(line string) (kind byte, ino uint64, a Attr, ok bool) {
	i := strings.LastIndexByte(line, ' ')
	if i < 0 || len(line)-i-1 != 8 {
		return 0, 0, Attr{}, false
	}
	sum, err := strconv.ParseUint(line[i+1:], 16, 32)
	if err != nil || uint32(sum) != crc32.ChecksumIEEE([]byte(line[:i])) {
		return 0, 0, Attr{}, false
	}
	f := strings.Fields(line[:i])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, Attr{}, false
	}
	kind = f[0][0]
	if ino, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return 0, 0, Attr{}, false
	}
	switch kind {
	case 'D':
		return kind, ino, Attr{}, len(f) == 2
	case 'S':
	default:
		return 0, 0, Attr{}, false
	}
	if len(f) < 7 {
		return 0, 0, Attr{}, false
	}
	var v [5]uint64
	for k, base := range []int{10, 10, 8, 10, 10} {
		if v[k], err = strconv.ParseUint(f[2+k], base, 64); err != nil {
			return 0, 0, Attr{}, false
		}
	}
	a = Attr{Uid: uint32(v[0]), Gid: uint32(v[1]), Mode: uint32(v[2]), Rdev: v[3]}
	n := int(v[4])
	// The xattrs follow the seven fixed fields; a quoted name may hold a
	// space, so they are not split by Fields.
	rest := line[:i]
	for k := 0; k < 7; k++ {
		j := strings.IndexByte(rest, ' ')
		if j < 0 {
			rest = ""
			break
		}
		rest = rest[j+1:]
	}
	if n > 0 {
		a.Xattrs = make(map[string][]byte, n)
	}
	for k := 0; k < n; k++ {
		name, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return 0, 0, Attr{}, false
		}
		uq, _ := strconv.Unquote(name)
		rest = strings.TrimPrefix(rest[len(name):], " ")
		val, tail, _ := strings.Cut(rest, " ")
		rest = tail
		var b []byte
		if val != "-" {
			if b, err = hex.DecodeString(val); err != nil {
				return 0, 0, Attr{}, false
			}
		} else {
			b = []byte{}
		}
		a.Xattrs[uq] = b
	}
	if rest != "" {
		return 0, 0, Attr{}, false
	}
	return kind, ino, a, true
}

// loadMeta replays STAGE/.vroot/meta, compacts it against the inodes
// present under root/, and opens it for appending. Called by OpenStage.
func (s *Stage) loadMeta() error {
	name := filepath.Join(s.vroot, metaName)
	os.Remove(name + ".new")
	s.attrs = make(map[uint64]Attr)
	data, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	valid, line := 0, 0
	for valid < len(data) {
		i := bytes.IndexByte(data[valid:], '\n')
		if i < 0 {
			break // a torn append: never acknowledged
		}
		line++
		kind, ino, a, ok := parseMetaLine(string(data[valid : valid+i]))
		if !ok {
			if valid+i+1 == len(data) {
				break // a torn last line
			}
			return fmt.Errorf("%s line %d: bad record %q", metaName, line, data[valid:valid+i])
		}
		if kind == 'D' {
			delete(s.attrs, ino)
		} else {
			s.attrs[ino] = a
		}
		valid += i + 1
	}
	if len(s.attrs) > 0 {
		present := make(map[uint64]bool)
		filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if fi, err := d.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					present[st.Ino] = true
				}
			}
			return nil
		})
		for ino := range s.attrs {
			if !present[ino] {
				delete(s.attrs, ino)
			}
		}
	}
	if len(data) > 0 {
		inos := make([]uint64, 0, len(s.attrs))
		for ino := range s.attrs {
			inos = append(inos, ino)
		}
		sort.Slice(inos, func(i, j int) bool { return inos[i] < inos[j] })
		var b bytes.Buffer
		for _, ino := range inos {
			a := s.attrs[ino]
			b.WriteString(metaLine('S', ino, &a))
		}
		if err := writeFileAtomic(name, b.Bytes()); err != nil {
			return fmt.Errorf("compacting %s: %w", metaName, err)
		}
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	s.meta = f
	return nil
}

// appendMeta writes one line to the log and fsyncs it. Callers hold amu.
func (s *Stage) appendMeta(line string) error {
	if s.meta == nil {
		return errStageClosed
	}
	if _, err := io.WriteString(s.meta, line); err != nil {
		return fmt.Errorf("stage %s: %s: %w", s.dir, metaName, err)
	}
	if err := unix.Fdatasync(int(s.meta.Fd())); err != nil {
		return fmt.Errorf("stage %s: %s: %w", s.dir, metaName, err)
	}
	return nil
}

// Attr returns the record of the staged file fi describes (fi from an
// lstat of a path under Root()); false means there is none: a staged file
// without a record belongs to 0:0 under --fakeroot, with its own mode.
func (s *Stage) Attr(fi fs.FileInfo) (Attr, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Attr{}, false
	}
	return s.AttrIno(st.Ino)
}

// AttrIno returns the record of the staged inode ino. The Xattrs map is
// shared: callers must not modify it.
func (s *Stage) AttrIno(ino uint64) (Attr, bool) {
	s.amu.RLock()
	defer s.amu.RUnlock()
	a, ok := s.attrs[ino]
	return a, ok
}

// SetAttr records a for the staged inode ino, durably: when it returns
// nil, the record survives a crash. a.Xattrs must not be modified after.
func (s *Stage) SetAttr(ino uint64, a Attr) error {
	line := metaLine('S', ino, &a)
	s.amu.Lock()
	defer s.amu.Unlock()
	if err := s.appendMeta(line); err != nil {
		return err
	}
	s.attrs[ino] = a
	return nil
}

// DropAttr forgets the record of inode ino (its last link is gone),
// durably.
func (s *Stage) DropAttr(ino uint64) error {
	s.amu.Lock()
	defer s.amu.Unlock()
	if _, ok := s.attrs[ino]; !ok {
		return nil
	}
	if err := s.appendMeta(metaLine('D', ino, nil)); err != nil {
		return err
	}
	delete(s.attrs, ino)
	return nil
}

// Dev is the device of the staged files: a stat result with another
// st_dev is not a staged file.
func (s *Stage) Dev() uint64 { return s.rootDev }
