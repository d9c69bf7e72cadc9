package pack

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"strings"
)

// The manifest is a BSD mtree specification in the full-path form (each
// line names a path relative to the root, "./usr/bin/hello"), which
// libarchive (bsdtar) and NetBSD's mtree both read:
//
//	#mtree
//	# vroot: deleted: ./etc/motd
//	. type=dir
//	./usr type=dir uid=0 gid=0 mode=0755 time=1700000000.000000000
//	./usr/bin/hello type=file uid=0 gid=0 mode=0755 size=61616 time=... sha256digest=...
//	./usr/bin/hi type=link uid=0 gid=0 mode=0777 time=... link=hello
//	./dev/null type=char uid=0 gid=0 mode=0666 time=... device=native,1,3
//
// The "." line carries no keyword: the archive has no entry for the root,
// and NetBSD's mtree wants the parent of every path defined. Each further
// line is one archive entry, with the entry's owner, mode and (clamped)
// mtime; a hard link is described as the file it names. Deletions left
// out with AllowDeletions are comment lines ("# vroot: deleted: PATH", or
// "# vroot: replaced directory: PATH" for an opaque one), which every mtree
// reader skips. Names and link targets are encoded as mtree wants: bytes
// outside printable ASCII, space, and # = \ * ? [ as \ooo.
type mtree struct {
	w   *bufio.Writer
	err error
}

func newMtree(w io.Writer, deletions []Deletion) *mtree {
	m := &mtree{w: bufio.NewWriter(w)}
	m.printf("#mtree\n")
	for _, d := range deletions {
		if d.Opaque {
			m.printf("# vroot: replaced directory (the host's entries below it are deleted): %s\n", mtreeEscape(name(d.Path[1:])))
		} else {
			m.printf("# vroot: deleted: %s\n", mtreeEscape(name(d.Path[1:])))
		}
	}
	m.printf(". type=dir\n")
	return m
}

func (m *mtree) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

// entry describes hdr (a hard link described as its file), whose contents
// have the sha256 sum.
func (m *mtree) entry(hdr *tar.Header, sum string) {
	var typ string
	switch hdr.Typeflag {
	case tar.TypeReg:
		typ = "file"
	case tar.TypeDir:
		typ = "dir"
	case tar.TypeSymlink:
		typ = "link"
	case tar.TypeChar:
		typ = "char"
	case tar.TypeBlock:
		typ = "block"
	case tar.TypeFifo:
		typ = "fifo"
	}
	m.printf("%s type=%s uid=%d gid=%d mode=%04o time=%d.000000000",
		mtreeEscape(strings.TrimSuffix(hdr.Name, "/")), typ, hdr.Uid, hdr.Gid, hdr.Mode, hdr.ModTime.Unix())
	switch hdr.Typeflag {
	case tar.TypeReg:
		m.printf(" size=%d sha256digest=%s", hdr.Size, sum)
	case tar.TypeSymlink:
		m.printf(" link=%s", mtreeEscape(hdr.Linkname))
	case tar.TypeChar, tar.TypeBlock:
		m.printf(" device=native,%d,%d", hdr.Devmajor, hdr.Devminor)
	}
	m.printf("\n")
}

func (m *mtree) close() error {
	if m.err == nil {
		m.err = m.w.Flush()
	}
	return m.err
}

func mtreeEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`#=\*?[`, c) >= 0 {
			fmt.Fprintf(&b, "\\%03o", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
