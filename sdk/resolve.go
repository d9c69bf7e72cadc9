package sdk

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxSymlinks is the kernel's limit on links followed in one lookup.
const maxSymlinks = 40

var errLoop = errors.New("too many levels of symbolic links")

// space is an SDK seen as a root: guest paths ("/usr/lib/x") name
// root/usr/lib/x, and symlinks resolve inside it (an absolute target is
// re-rooted at root, ".." stops at root), as they do in vroot's guest view.
type space struct{ root string }

// host is the host path of guest path g.
func (s space) host(g string) string { return filepath.Join(s.root, filepath.FromSlash(g)) }

// resolve canonicalises guest path p in the SDK, following every symlink,
// the last one included. It returns the canonical path and nil, or the path
// of the component where the walk stopped and why: fs.ErrNotExist (an
// *fs.PathError), ENOTDIR, or errLoop.
func (s space) resolve(p string) (string, error) {
	links := 0
	cur := "/"
	rest := p
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			return cur, nil
		}
		var name string
		name, rest, _ = strings.Cut(rest, "/")
		switch name {
		case ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, name)
		fi, err := os.Lstat(s.host(next))
		if err != nil {
			return next, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxSymlinks {
			return next, errLoop
		}
		tgt, err := os.Readlink(s.host(next))
		if err != nil {
			return next, err
		}
		if path.IsAbs(tgt) {
			cur = "/"
		}
		rest = tgt + "/" + rest
	}
}

// stat is os.Stat of guest path p, resolved in the SDK.
func (s space) stat(p string) (fs.FileInfo, string, error) {
	c, err := s.resolve(p)
	if err != nil {
		return nil, c, err
	}
	fi, err := os.Stat(s.host(c))
	return fi, c, err
}

// exists reports whether guest path p resolves to something in the SDK.
func (s space) exists(p string) bool {
	_, _, err := s.stat(p)
	return err == nil
}

// isDir reports whether guest path p resolves to a directory in the SDK.
func (s space) isDir(p string) bool {
	fi, _, err := s.stat(p)
	return err == nil && fi.IsDir()
}
