package redirect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stageFormat is the first line of STAGE/.vroot/format.
const stageFormat = "vroot-stage 1\n"

// mergedGrace is how long a synthesized directory that a newer one
// superseded is kept, for a process still reading the old listing.
const mergedGrace = time.Minute

// A Stage is a staging directory: the topmost layer of every redirect rule,
// where every write under one lands. Its layout:
//
//	DIR/root/               the guest tree, as written: guest path g is DIR/root/g
//	DIR/.vroot/format       "vroot-stage 1"
//	DIR/.vroot/lock         flock'ed by the vroot that has the stage open; its pid
//	DIR/.vroot/journal      whiteout, opaque and copy-up marks, one record a line
//	DIR/.vroot/meta         --fakeroot's owners, modes, device numbers, xattrs (meta.go)
//	DIR/.vroot/tmp/         copy-ups in progress (renamed into root/ when complete)
//	DIR/.vroot/merged/N/    synthesized listings of merged directories
//
// Marks are kept in memory and journaled: "W /path" (whiteout: the lower
// layers' entry is hidden), "U /path" (the whiteout is cleared), "O /path"
// (opaque: the lower layers' directory is hidden below the staged one),
// "C /path" (copied up, or created over a lower name: the staged entry
// modifies a lower one). A path with a newline is written as a Go quoted
// string. Each append is fsync'ed before the call that made it returns, so
// an acknowledged mark survives a crash; a torn last line is dropped when
// the stage is opened. W and O records drop every mark below their path
// (they hide the whole lower subtree), so that replaying the journal gives
// back exactly the state it recorded. Close compacts the journal.
//
// A Stage is safe for concurrent use. One vroot at a time may have it open
// (an exclusive flock).
type Stage struct {
	dir, root, vroot  string
	tmp, merged       string
	parent, base      string // the canonical parent of dir, and dir's name
	dev, ino          uint64 // dir's identity: the guest never sees it
	rootFS            *os.Root
	lock              *os.File
	cmu               sync.Mutex   // serialises copy-ups and placeholders
	jmu               sync.Mutex   // the journal: appends in the order marks apply
	mu                sync.RWMutex // the marks (held briefly: lookups read them)
	white             map[string]bool
	wkids             map[string]map[string]bool // parent -> whited-out names
	opaque            map[string]bool
	copied            map[string]bool
	nwhite            atomic.Int64
	journal           *os.File // under jmu
	err               error    // the first journal error Commit could not report (jmu)
	closed            bool     // (jmu)
	mmu               sync.Mutex
	mergedN           int
	mergedGuest       map[int]string
	mergedSuperseded  []supersededDir
	mergedLastCleanup time.Time
	amu               sync.RWMutex    // the metadata store (meta.go)
	attrs             map[uint64]Attr // by inode (amu)
	meta              *os.File        // the metadata log (amu)
	rootDev           uint64          // st_dev of root/
}

type supersededDir struct {
	n    int
	when time.Time
}

// Change is one entry of Stage.Status.
type Change struct {
	// Kind is 'A' (added), 'M' (modified: copied up, or created over a
	// lower name) or 'D' (deleted: a whiteout).
	Kind byte
	// Path is the guest path.
	Path string
}

// OpenStage opens the staging directory dir, creating it (0755) if it is
// missing, with its root/ and .vroot/ (see Stage). It refuses a stage of
// another format, a directory that is neither empty nor a stage, and a
// stage another vroot has open. It loads the journal and removes what a
// crash may have left: temporary copies and synthesized directories.
func OpenStage(dir string) (*Stage, error) {
	if dir == "" {
		return nil, errors.New("stage: empty path")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	canon, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	s := &Stage{
		dir:         canon,
		root:        filepath.Join(canon, "root"),
		vroot:       filepath.Join(canon, ".vroot"),
		white:       make(map[string]bool),
		wkids:       make(map[string]map[string]bool),
		opaque:      make(map[string]bool),
		copied:      make(map[string]bool),
		mergedGuest: make(map[int]string),
	}
	s.tmp = filepath.Join(s.vroot, "tmp")
	s.merged = filepath.Join(s.vroot, "merged")
	s.parent, s.base = filepath.Dir(canon), filepath.Base(canon)

	if _, err := os.Lstat(s.vroot); errors.Is(err, fs.ErrNotExist) {
		ents, err := os.ReadDir(canon)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", dir, err)
		}
		if len(ents) > 0 {
			return nil, fmt.Errorf("stage %s: not a vroot stage (no .vroot/) and not empty", dir)
		}
	}
	formatFile := filepath.Join(s.vroot, "format")
	b, err := os.ReadFile(formatFile)
	haveFormat := err == nil
	switch {
	case err == nil && string(b) != stageFormat:
		return nil, fmt.Errorf("stage %s: unsupported format %q (this vroot reads %q)", dir, strings.TrimSpace(string(b)), strings.TrimSpace(stageFormat))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	if err := os.MkdirAll(s.vroot, 0o755); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	s.lock, err = os.OpenFile(filepath.Join(s.vroot, "lock"), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	if err := unix.Flock(int(s.lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		s.lock.Close()
		if err == unix.EWOULDBLOCK {
			pid := "unknown"
			if b, err := os.ReadFile(filepath.Join(s.vroot, "lock")); err == nil && len(bytes.TrimSpace(b)) > 0 {
				pid = string(bytes.TrimSpace(b))
			}
			return nil, fmt.Errorf("stage %s is in use by another vroot (pid %s)", dir, pid)
		}
		return nil, fmt.Errorf("stage %s: lock: %w", dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	if err := s.lock.Truncate(0); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	if _, err := s.lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	if !haveFormat {
		if err := writeFileAtomic(formatFile, []byte(stageFormat)); err != nil {
			return nil, fmt.Errorf("stage %s: %w", dir, err)
		}
	}
	for _, d := range []string{s.root, s.tmp, s.merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("stage %s: %w", dir, err)
		}
	}
	for _, d := range []string{s.tmp, s.merged} {
		if err := emptyDir(d); err != nil {
			return nil, fmt.Errorf("stage %s: cleaning up: %w", dir, err)
		}
	}
	os.Remove(filepath.Join(s.vroot, "journal.new"))
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(canon, &st); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	s.dev, s.ino = st.Dev, st.Ino
	if err := unix.Stat(s.root, &st); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	s.rootDev = st.Dev
	if err := s.loadMeta(); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	if s.rootFS, err = os.OpenRoot(s.root); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	// The journal's name (a new journal's) must be as durable as what is
	// appended to it.
	if err := syncDir(s.vroot); err != nil {
		return nil, fmt.Errorf("stage %s: %w", dir, err)
	}
	ok = true
	return s, nil
}

// Dir is the staging directory (absolute, symlinks resolved).
func (s *Stage) Dir() string { return s.dir }

// Root is Dir()/root, where guest path g is staged at Root()+g.
func (s *Stage) Root() string { return s.root }

// Close compacts the journal, removes the synthesized directories and
// temporary files, and releases the lock. It reports the first journal
// write that failed while the stage was in use, if any.
func (s *Stage) Close() error {
	s.jmu.Lock()
	if s.closed {
		s.jmu.Unlock()
		return nil
	}
	s.closed = true
	err := s.err
	s.mu.RLock()
	if e := s.compact(); err == nil {
		err = e
	}
	s.mu.RUnlock()
	if s.journal != nil {
		s.journal.Close()
		s.journal = nil
	}
	s.jmu.Unlock()
	s.amu.Lock()
	if s.meta != nil {
		s.meta.Close()
		s.meta = nil
	}
	s.amu.Unlock()
	emptyDir(s.merged)
	emptyDir(s.tmp)
	s.release()
	return err
}

func (s *Stage) release() {
	if s.rootFS != nil {
		s.rootFS.Close()
	}
	if s.journal != nil {
		s.journal.Close()
	}
	if s.meta != nil {
		s.meta.Close()
	}
	if s.lock != nil {
		s.lock.Close() // releases the flock
	}
}

// Status lists what the stage changes in the guest view, sorted by path:
// every staged entry ('A', or 'M' when it modifies a lower entry) and every
// whiteout ('D'). Directories are listed when they were created ('A'), or
// created over a lower name ('M': an opaque directory); the directories
// created to hold a copy-up or a new name (copied-up parents) and copied-up
// directories (chmod of a lower directory) are not listed.
func (s *Stage) Status() ([]Change, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Change
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == s.root {
			return nil
		}
		g := "/" + filepath.ToSlash(p[len(s.root)+1:])
		switch {
		case d.IsDir() && !s.copied[g]:
			out = append(out, Change{'A', g})
		case d.IsDir():
			if s.opaque[g] {
				out = append(out, Change{'M', g})
			}
		case s.copied[g] || s.white[g]:
			out = append(out, Change{'M', g})
		default:
			out = append(out, Change{'A', g})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for g := range s.white {
		if _, err := os.Lstat(joinPath(s.root, g)); errors.Is(err, fs.ErrNotExist) {
			out = append(out, Change{'D', g})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// A rec is one journal record.
type rec struct {
	kind byte // 'W', 'U', 'O', 'C'
	path string
}

func (r rec) String() string {
	p := r.path
	if strings.ContainsAny(p, "\n") || !strings.HasPrefix(p, "/") {
		p = strconv.Quote(p)
	}
	return string(r.kind) + " " + p + "\n"
}

func parseRec(line string) (rec, bool) {
	if len(line) < 3 || line[1] != ' ' || strings.IndexByte("WUOC", line[0]) < 0 {
		return rec{}, false
	}
	p := line[2:]
	if p[0] == '"' {
		q, err := strconv.Unquote(p)
		if err != nil {
			return rec{}, false
		}
		p = q
	}
	if p == "" || p[0] != '/' {
		return rec{}, false
	}
	return rec{line[0], p}, true
}

// load replays the journal and opens it for appending. A last line without
// its newline is a torn append that was never acknowledged: it is cut off.
func (s *Stage) load() error {
	name := filepath.Join(s.vroot, "journal")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return err
	}
	valid, line := 0, 0
	for valid < len(data) {
		i := bytes.IndexByte(data[valid:], '\n')
		if i < 0 {
			break
		}
		line++
		r, ok := parseRec(string(data[valid : valid+i]))
		if !ok {
			f.Close()
			return fmt.Errorf("journal line %d: bad record %q", line, data[valid:valid+i])
		}
		s.apply(r)
		valid += i + 1
	}
	if valid < len(data) {
		if err := f.Truncate(int64(valid)); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Seek(int64(valid), io.SeekStart); err != nil {
		f.Close()
		return err
	}
	s.journal = f
	return nil
}

// apply changes the marks in memory. Callers hold mu.
func (s *Stage) apply(r rec) {
	p := r.path
	switch r.kind {
	case 'W':
		s.dropUnder(p)
		delete(s.opaque, p)
		delete(s.copied, p)
		if !s.white[p] {
			s.white[p] = true
			dir, name := splitLast(p)
			if s.wkids[dir] == nil {
				s.wkids[dir] = make(map[string]bool)
			}
			s.wkids[dir][name] = true
		}
	case 'U':
		s.unwhite(p)
	case 'O':
		s.dropUnder(p)
		s.opaque[p] = true
	case 'C':
		s.copied[p] = true
	}
	s.nwhite.Store(int64(len(s.white)))
}

func (s *Stage) unwhite(p string) {
	if !s.white[p] {
		return
	}
	delete(s.white, p)
	dir, name := splitLast(p)
	delete(s.wkids[dir], name)
	if len(s.wkids[dir]) == 0 {
		delete(s.wkids, dir)
	}
}

// dropUnder forgets every mark strictly below p.
func (s *Stage) dropUnder(p string) {
	pre := p + "/"
	if p == "/" {
		pre = "/"
	}
	for q := range s.white {
		if strings.HasPrefix(q, pre) {
			s.unwhite(q)
		}
	}
	for q := range s.opaque {
		if strings.HasPrefix(q, pre) {
			delete(s.opaque, q)
		}
	}
	for q := range s.copied {
		if strings.HasPrefix(q, pre) {
			delete(s.copied, q)
		}
	}
}

var errStageClosed = errors.New("stage is closed")

// record appends recs to the journal, fsyncs it, and applies them. When the
// journal cannot be written, the marks are applied anyway if force (the
// change they describe has already happened: the in-memory view must follow
// it) and the error is kept for Close; otherwise nothing is applied.
func (s *Stage) record(force bool, recs ...rec) error {
	if len(recs) == 0 {
		return nil
	}
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.String())
	}
	// The journal lock is held across the append and the apply, so that
	// marks apply in the journal's order; the marks' lock only for the
	// apply, so that lookups do not wait for the fsync.
	s.jmu.Lock()
	defer s.jmu.Unlock()
	var err error
	if s.journal == nil {
		err = errStageClosed
	} else if _, err = s.journal.WriteString(b.String()); err == nil {
		err = unix.Fdatasync(int(s.journal.Fd()))
	}
	if err != nil {
		if !force {
			return err
		}
		if s.err == nil {
			s.err = fmt.Errorf("stage %s: journal: %w", s.dir, err)
		}
	}
	s.mu.Lock()
	for _, r := range recs {
		s.apply(r)
	}
	s.mu.Unlock()
	return nil
}

// compact rewrites the journal with the current marks. Callers hold jmu,
// and mu for reading.
func (s *Stage) compact() error {
	if s.journal == nil {
		return nil
	}
	var recs []rec
	for p := range s.white {
		recs = append(recs, rec{'W', p})
	}
	for p := range s.opaque {
		recs = append(recs, rec{'O', p})
	}
	for p := range s.copied {
		recs = append(recs, rec{'C', p})
	}
	// Parents before children: a W or O drops the marks below it on replay.
	order := map[byte]int{'W': 0, 'O': 1, 'C': 2}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].path != recs[j].path {
			return recs[i].path < recs[j].path
		}
		return order[recs[i].kind] < order[recs[j].kind]
	})
	var b bytes.Buffer
	for _, r := range recs {
		b.WriteString(r.String())
	}
	if err := writeFileAtomic(filepath.Join(s.vroot, "journal"), b.Bytes()); err != nil {
		return fmt.Errorf("stage %s: compacting the journal: %w", s.dir, err)
	}
	return nil
}

// whited reports whether dir/name carries a whiteout. It does not allocate:
// it is on the path of every lookup that misses the stage.
func (s *Stage) whited(dir, name string) bool {
	if s.nwhite.Load() == 0 {
		return false
	}
	var buf [256]byte
	b := append(buf[:0], dir...)
	if dir != "/" {
		b = append(b, '/')
	}
	b = append(b, name...)
	s.mu.RLock()
	ok := s.white[string(b)]
	s.mu.RUnlock()
	return ok
}

func (s *Stage) isWhite(g string) bool {
	if s.nwhite.Load() == 0 {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.white[g]
}

func (s *Stage) isOpaque(g string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.opaque[g]
}

func (s *Stage) hasWhiteKids(g string) bool {
	if s.nwhite.Load() == 0 {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.wkids[g]) > 0
}

// rel is the path of guest g relative to the stage root, for s.rootFS.
func rel(g string) string {
	if g == "/" {
		return "."
	}
	return g[1:]
}

// openDir opens the staged directory of guest g through the os.Root, so
// that no symlink planted in the stage leads vroot out of it.
func (s *Stage) openDir(g string) (*os.File, error) {
	return s.rootFS.OpenFile(rel(g), os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
}

// newMerged allocates a synthesized directory for guest g.
func (s *Stage) newMerged(g string) (int, string) {
	s.mmu.Lock()
	defer s.mmu.Unlock()
	s.mergedN++
	s.mergedGuest[s.mergedN] = g
	return s.mergedN, filepath.Join(s.merged, strconv.Itoa(s.mergedN))
}

// supersede notes that synthesized directory n is no longer served, and
// removes the ones superseded long enough ago.
func (s *Stage) supersede(n int) {
	now := time.Now()
	s.mmu.Lock()
	s.mergedSuperseded = append(s.mergedSuperseded, supersededDir{n, now})
	var old []int
	if now.Sub(s.mergedLastCleanup) > mergedGrace/4 {
		s.mergedLastCleanup = now
		keep := s.mergedSuperseded[:0]
		for _, d := range s.mergedSuperseded {
			if now.Sub(d.when) > mergedGrace {
				old = append(old, d.n)
			} else {
				keep = append(keep, d)
			}
		}
		s.mergedSuperseded = keep
	}
	s.mmu.Unlock()
	for _, n := range old {
		removeAll(filepath.Join(s.merged, strconv.Itoa(n)))
	}
}

// mergedPath maps a host path at or below a synthesized directory to the
// guest path it stands for.
func (s *Stage) mergedPath(host string) (string, bool, bool) {
	rest, ok := under(host, s.merged)
	if !ok {
		return "", false, false
	}
	rest = strings.TrimPrefix(rest, "/")
	num, tail, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(num)
	if err != nil {
		return "", false, true
	}
	s.mmu.Lock()
	g, ok := s.mergedGuest[n]
	s.mmu.Unlock()
	if !ok {
		return "", false, true
	}
	if tail != "" {
		g = join(g, tail)
	}
	return g, true, true
}

// writeFileAtomic writes name through a temporary file, fsync'ed, renamed
// over it, and the directory fsync'ed.
func writeFileAtomic(name string, data []byte) error {
	tmp := name + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// syncDir fsyncs a directory, making the names in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// emptyDir removes everything in dir.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var first error
	for _, e := range ents {
		if err := removeAll(filepath.Join(dir, e.Name())); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// removeAll is os.RemoveAll that first opens up directories whose mode
// forbids removing their entries (synthesized directories keep the mode of
// the directory they stand for).
func removeAll(p string) error {
	// WalkDir calls fn for a directory before it reads it.
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}
