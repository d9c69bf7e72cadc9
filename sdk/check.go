package sdk

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// Report is what Check found in an SDK. Paths in it are guest paths: what
// a build under `vroot --sdk` names (/usr/lib/x, not DIR/usr/lib/x).
type Report struct {
	// Dir is the SDK's absolute host path.
	Dir string `json:"dir"`
	// Layout is "merged-usr" (lib is a symlink to usr/lib, as on Debian 12
	// hosts), "split-usr" (lib is a directory) or "usr-only" (no lib).
	Layout string `json:"layout"`
	// Triplets are the multiarch triplets the SDK has libraries or headers
	// for, by name.
	Triplets []TripletInfo `json:"triplets"`
	// PkgConfig lists the pkg-config modules in the directories pkg-config
	// searches, by module name.
	PkgConfig []PkgConfig `json:"pkgconfig"`
	// Packages are the Debian packages the SDK's dpkg status file records
	// (a debootstrap tree, or one made by Create).
	Packages []Package `json:"packages,omitempty"`
	// Findings are what looks wrong, errors first, then by path.
	Findings []Finding `json:"findings"`
	// Errors and Warnings count the findings of each severity.
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
}

// TripletInfo is what the SDK has for one multiarch triplet.
type TripletInfo struct {
	Name string `json:"name"` // aarch64-linux-gnu
	// Arch is the Debian architecture of the triplet, if known (arm64).
	Arch string `json:"arch,omitempty"`
	// LibDirs and IncludeDirs are the canonical directories found:
	// /usr/lib/TRIPLET (with /lib/TRIPLET when it is another directory),
	// /usr/include/TRIPLET, and /usr/TRIPLET/{lib,include} for the
	// cross-toolchain layout.
	LibDirs     []string `json:"lib_dirs,omitempty"`
	IncludeDirs []string `json:"include_dirs,omitempty"`
	// Libc is the C library found for the triplet, nil if none.
	Libc *Libc `json:"libc,omitempty"`
	// LibcSo is the linker's libc.so (a linker script on glibc), if any:
	// what -lc finds, and what makes the triplet a link target.
	LibcSo string `json:"libc_so,omitempty"`
	// Crt lists the C start files present (crt1.o, Scrt1.o, crti.o,
	// crtn.o).
	Crt []string `json:"crt,omitempty"`
}

// Libc is a C library's version and where it was read.
type Libc struct {
	// Version is the release, e.g. "2.36"; empty if only the package
	// version is known.
	Version string `json:"version,omitempty"`
	// From is the file the version was read from (the banner in
	// libc.so.6), empty if it came from package metadata only.
	From string `json:"from,omitempty"`
	// Package and PackageVersion name the package that holds it, from the
	// dpkg status: libc6:arm64, 2.36-9+deb12u14.
	Package        string `json:"package,omitempty"`
	PackageVersion string `json:"package_version,omitempty"`
}

// PkgConfig is one .pc file.
type PkgConfig struct {
	Module  string `json:"module"` // the name pkg-config is asked for: zlib
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path"`
}

// Package is a record of the SDK's dpkg status file.
type Package struct {
	Name    string `json:"name"`
	Arch    string `json:"arch,omitempty"`
	Version string `json:"version,omitempty"`
	Status  string `json:"status,omitempty"`
}

// Severity of a finding: an error breaks builds or mixes the host into
// them; a warning is worth knowing.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Kinds of finding.
const (
	// KindDangling: a symlink whose target is not in the SDK.
	KindDangling = "dangling-symlink"
	// KindEscaping: an absolute symlink whose target the SDK does not have.
	// Under --sdk it resolves in the guest view, so it reads the host's
	// file if the host has one, and is dangling otherwise.
	KindEscaping = "escaping-symlink"
	// KindLoop: a symlink that never resolves (ELOOP).
	KindLoop = "symlink-loop"
	// KindMissingCrt: a triplet has libc.so (so -lc links against the SDK)
	// but not the start files the compiler driver adds to every link.
	KindMissingCrt = "missing-crt"
	// KindHostLibc: a C library for the host's own triplet, which the
	// host's tools load too under --sdk.
	KindHostLibc = "host-libc"
	// KindSplitUsr: lib is a directory, which hides the host's /lib.
	KindSplitUsr = "split-usr"
	// KindEmpty: nothing under the prefixes --sdk layers.
	KindEmpty = "empty"
	// KindUnreadable: part of the SDK cannot be read by this user.
	KindUnreadable = "unreadable"
)

// Finding is one thing that looks wrong.
type Finding struct {
	Severity Severity `json:"severity"`
	Kind     string   `json:"kind"`
	Path     string   `json:"path"`
	// Target is a symlink's target as written, or the missing names.
	Target  string `json:"target,omitempty"`
	Message string `json:"message"`
}

// crtFiles are the start files a glibc link needs: crt1.o (or Scrt1.o for
// a PIE, Debian's default), crti.o and crtn.o around the program.
var crtFiles = []string{"crt1.o", "Scrt1.o", "crti.o", "crtn.o"}

// Check inspects the SDK at dir. The error is for a dir that cannot be
// inspected at all; what looks wrong inside is in the Report's Findings.
func Check(dir string) (*Report, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	c := &checker{s: space{abs}, r: &Report{Dir: abs, Triplets: []TripletInfo{}, PkgConfig: []PkgConfig{}, Findings: []Finding{}}}
	c.layout()
	c.packages()
	c.triplets()
	c.pkgconfig()
	c.symlinks()
	c.finish()
	return c.r, nil
}

type checker struct {
	s      space
	r      *Report
	status []stanza
}

func (c *checker) add(sev Severity, kind, p, target, format string, args ...any) {
	c.r.Findings = append(c.r.Findings, Finding{Severity: sev, Kind: kind, Path: p, Target: target, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) layout() {
	fi, err := os.Lstat(c.s.host("/lib"))
	switch {
	case err != nil:
		c.r.Layout = "usr-only"
	case fi.Mode()&fs.ModeSymlink != 0:
		c.r.Layout = "merged-usr"
		if p, err := c.s.resolve("/lib"); err != nil || p != "/usr/lib" {
			c.r.Layout = "split-usr"
		}
	default:
		c.r.Layout = "split-usr"
	}
	if c.r.Layout == "split-usr" {
		c.add(SevWarning, KindSplitUsr, "/lib", "",
			"lib is not a link to usr/lib: under --sdk the SDK's /lib replaces the host's whole /lib (host programs still reach their libraries through /usr/lib); vroot sdk create merges /usr as Debian 12 hosts are merged")
	}
}

func (c *checker) packages() {
	ss, err := readStatus(c.s.root)
	if err != nil {
		c.add(SevWarning, KindUnreadable, "/"+statusPath, "", "cannot read the dpkg status: %v", err)
		return
	}
	c.status = ss
	for _, s := range ss {
		st := s.get("Status")
		if f := strings.Fields(st); len(f) == 3 && (f[2] == "not-installed" || f[2] == "config-files") {
			continue
		}
		c.r.Packages = append(c.r.Packages, Package{Name: s.get("Package"), Arch: s.get("Architecture"), Version: s.get("Version"), Status: st})
	}
	sort.Slice(c.r.Packages, func(i, j int) bool {
		a, b := c.r.Packages[i], c.r.Packages[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Arch < b.Arch
	})
}

// triplets finds the multiarch directories and what each one holds.
func (c *checker) triplets() {
	found := map[string]*TripletInfo{}
	get := func(name string) *TripletInfo {
		t := found[name]
		if t == nil {
			t = &TripletInfo{Name: name, Arch: archOf(name)}
			found[name] = t
		}
		return t
	}
	addDir := func(list *[]string, g string) {
		cp, err := c.s.resolve(g)
		if err != nil || !c.s.isDir(cp) {
			return
		}
		for _, x := range *list {
			if x == cp {
				return
			}
		}
		*list = append(*list, cp)
	}
	for _, base := range []string{"/usr/lib", "/lib", "/usr/include", "/usr"} {
		cb, err := c.s.resolve(base)
		if err != nil {
			continue
		}
		ents, err := os.ReadDir(c.s.host(cb))
		if err != nil {
			continue
		}
		for _, e := range ents {
			name := e.Name()
			if !isTriplet(name) {
				continue
			}
			g := path.Join(base, name)
			if !c.s.isDir(g) {
				continue
			}
			switch base {
			case "/usr/lib", "/lib":
				addDir(&get(name).LibDirs, g)
			case "/usr/include":
				addDir(&get(name).IncludeDirs, g)
			case "/usr":
				// The cross-toolchain layout: /usr/TRIPLET/{lib,include}.
				if c.s.isDir(g + "/lib") {
					addDir(&get(name).LibDirs, g+"/lib")
				}
				if c.s.isDir(g + "/include") {
					addDir(&get(name).IncludeDirs, g+"/include")
				}
			}
		}
	}
	names := make([]string, 0, len(found))
	for n := range found {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := found[n]
		if len(t.LibDirs) == 0 && len(t.IncludeDirs) == 0 {
			continue
		}
		c.libc(t)
		c.r.Triplets = append(c.r.Triplets, *t)
	}
	if len(c.r.Triplets) == 0 && !c.s.isDir("/usr/include") && !c.s.isDir("/usr/lib") {
		c.add(SevWarning, KindEmpty, "/", "", "no /usr/include, /usr/lib nor multiarch directory: --sdk would add nothing to a build")
	}
}

// libc fills in the triplet's C library, libc.so and start files, and
// reports missing start files.
func (c *checker) libc(t *TripletInfo) {
	var so6 string
	for _, d := range t.LibDirs {
		if so6 == "" && c.s.exists(d+"/libc.so.6") {
			so6 = d + "/libc.so.6"
		}
		if t.LibcSo == "" && c.s.exists(d+"/libc.so") {
			t.LibcSo = d + "/libc.so"
		}
		for _, f := range crtFiles {
			if c.s.exists(d+"/"+f) && !slices.Contains(t.Crt, f) {
				t.Crt = append(t.Crt, f)
			}
		}
	}
	var l Libc
	if so6 != "" {
		if v := glibcVersion(c.s, so6); v != "" {
			l.Version, l.From = v, so6
		}
	}
	if t.Arch != "" {
		for _, s := range c.status {
			if s.get("Package") == "libc6" && s.get("Architecture") == t.Arch ||
				s.get("Package") == "libc6-"+t.Arch+"-cross" {
				l.Package, l.PackageVersion = s.id(), s.get("Version")
				if s.get("Package") != "libc6" {
					l.Package = s.get("Package")
				}
				break
			}
		}
	}
	if l != (Libc{}) {
		if l.Version == "" && l.PackageVersion != "" {
			l.Version = upstreamVersion(l.PackageVersion)
		}
		t.Libc = &l
	}
	if t.LibcSo != "" {
		var missing []string
		for _, f := range crtFiles {
			if !slices.Contains(t.Crt, f) {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			c.add(SevError, KindMissingCrt, t.LibDirs[0], strings.Join(missing, " "),
				"%s has libc.so but not %s: a link for %s against the SDK fails or takes the start files from elsewhere (they come with libc6-dev)",
				t.Name, strings.Join(missing, ", "), t.Name)
		}
	}
	if t.Name == hostTriplet() && so6 != "" {
		c.add(SevWarning, KindHostLibc, so6, "",
			"the SDK carries a C library for the host's own triplet: under --sdk the host's tools (make, gcc, the shell) load it instead of the host's")
	}
}

// upstreamVersion strips a Debian version's epoch and revision: 2.36 from
// 2.36-9+deb12u14.
func upstreamVersion(v string) string {
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	return v
}

var glibcBanner = regexp.MustCompile(`GNU C Library [^\n]*?release version ([0-9]+\.[0-9]+(\.[0-9]+)?)`)

// glibcVersion reads the release from the banner glibc's libc.so.6 prints
// when run: "GNU C Library (Debian GLIBC 2.36-9) stable release version
// 2.36." The file is read, never run: it may be another architecture's.
func glibcVersion(s space, g string) string {
	c, err := s.resolve(g)
	if err != nil {
		return ""
	}
	f, err := os.Open(s.host(c))
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return ""
	}
	i := bytes.Index(data, []byte("GNU C Library"))
	if i < 0 {
		return ""
	}
	end := min(i+256, len(data))
	if m := glibcBanner.FindSubmatch(data[i:end]); m != nil {
		return string(m[1])
	}
	return ""
}

// pkgconfig lists the .pc files in pkg-config's search directories.
func (c *checker) pkgconfig() {
	dirs := []string{"/usr/lib/pkgconfig", "/usr/share/pkgconfig", "/usr/lib64/pkgconfig"}
	for _, t := range c.r.Triplets {
		for _, d := range t.LibDirs {
			dirs = append(dirs, d+"/pkgconfig")
		}
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		cd, err := c.s.resolve(d)
		if err != nil || seen[cd] {
			continue
		}
		seen[cd] = true
		ents, err := os.ReadDir(c.s.host(cd))
		if err != nil {
			continue
		}
		for _, e := range ents {
			mod, ok := strings.CutSuffix(e.Name(), ".pc")
			if !ok || mod == "" {
				continue
			}
			g := path.Join(cd, e.Name())
			pc := PkgConfig{Module: mod, Path: g}
			if cg, err := c.s.resolve(g); err == nil {
				pc.Name, pc.Version = readPC(c.s.host(cg))
			}
			c.r.PkgConfig = append(c.r.PkgConfig, pc)
		}
	}
	sort.SliceStable(c.r.PkgConfig, func(i, j int) bool { return c.r.PkgConfig[i].Module < c.r.PkgConfig[j].Module })
}

// readPC returns a .pc file's Name and Version, with its variables
// expanded.
func readPC(file string) (name, version string) {
	f, err := os.Open(file)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	vars := map[string]string{}
	expand := func(s string) string {
		for range 8 {
			i := strings.Index(s, "${")
			if i < 0 {
				break
			}
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				break
			}
			s = s[:i] + vars[s[i+2:i+j]] + s[i+j+1:]
		}
		return s
	}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		ci := strings.IndexByte(line, ':')
		ei := strings.IndexByte(line, '=')
		switch {
		case ei > 0 && (ci < 0 || ei < ci):
			vars[strings.TrimSpace(line[:ei])] = expand(strings.TrimSpace(line[ei+1:]))
		case ci > 0:
			k, v := strings.TrimSpace(line[:ci]), expand(strings.TrimSpace(line[ci+1:]))
			switch k {
			case "Name":
				name = v
			case "Version":
				version = v
			}
		}
	}
	return name, version
}

// runtimeDirs are the top-level directories of a root that hold no part of
// an SDK, only what a running system mounts or makes there: a debootstrap
// tree used as a chroot may have /proc mounted.
var runtimeDirs = []string{"dev", "proc", "sys", "run", "tmp"}

// symlinks resolves every symlink of the SDK in SDK space (runtimeDirs
// aside).
func (c *checker) symlinks() {
	root := c.s.root
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		g := "/" + filepath.ToSlash(strings.TrimPrefix(strings.TrimPrefix(p, root), "/"))
		if err != nil {
			c.add(SevError, KindUnreadable, g, "", "cannot be read: %v", bareErr(err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() && path.Dir(g) == "/" && slices.Contains(runtimeDirs, d.Name()) {
			return fs.SkipDir
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		tgt, err := os.Readlink(p)
		if err != nil {
			c.add(SevError, KindUnreadable, g, "", "cannot read the link: %v", bareErr(err))
			return nil
		}
		at, err := c.s.resolve(g)
		switch {
		case err == nil:
		case errors.Is(err, errLoop):
			c.add(SevError, KindLoop, g, tgt, "never resolves: too many levels of symbolic links")
		case path.IsAbs(tgt):
			host := "the host has no such file either"
			if _, err := os.Stat(tgt); err == nil {
				host = "under --sdk it reads the host's " + tgt
			}
			c.add(SevError, KindEscaping, g, tgt, "absolute link to %s, which the SDK does not have (%s missing): %s", tgt, at, host)
		default:
			why := "missing"
			if errors.Is(err, syscall.ENOTDIR) {
				why = "not a directory"
			}
			c.add(SevError, KindDangling, g, tgt, "dangling: %s is %s in the SDK", at, why)
		}
		return nil
	})
}

func (c *checker) finish() {
	sort.SliceStable(c.r.Findings, func(i, j int) bool {
		a, b := c.r.Findings[i], c.r.Findings[j]
		if a.Severity != b.Severity {
			return a.Severity == SevError
		}
		return a.Path < b.Path
	})
	for _, f := range c.r.Findings {
		if f.Severity == SevError {
			c.r.Errors++
		} else {
			c.r.Warnings++
		}
	}
}

func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteText renders the report, one fact or finding per line:
//
//	sdk /srv/sdk-arm64 (merged-usr)
//	triplet aarch64-linux-gnu (arm64) lib /usr/lib/aarch64-linux-gnu include /usr/include/aarch64-linux-gnu crt crt1.o Scrt1.o crti.o crtn.o
//	libc aarch64-linux-gnu glibc 2.36 from /usr/lib/aarch64-linux-gnu/libc.so.6 (libc6:arm64 2.36-9+deb12u14)
//	pkg-config zlib 1.2.13 /usr/lib/aarch64-linux-gnu/pkgconfig/zlib.pc
//	package zlib1g-dev:arm64 1:1.2.13.dfsg-1
//	error dangling-symlink /usr/lib/x -> y: dangling: /usr/lib/y is missing in the SDK
//	0 errors, 1 warning
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "sdk %s (%s)\n", r.Dir, r.Layout)
	for _, t := range r.Triplets {
		fmt.Fprintf(bw, "triplet %s", t.Name)
		if t.Arch != "" {
			fmt.Fprintf(bw, " (%s)", t.Arch)
		}
		if len(t.LibDirs) > 0 {
			fmt.Fprintf(bw, " lib %s", strings.Join(t.LibDirs, " "))
		}
		if len(t.IncludeDirs) > 0 {
			fmt.Fprintf(bw, " include %s", strings.Join(t.IncludeDirs, " "))
		}
		if len(t.Crt) > 0 {
			fmt.Fprintf(bw, " crt %s", strings.Join(t.Crt, " "))
		}
		bw.WriteByte('\n')
	}
	for _, t := range r.Triplets {
		l := t.Libc
		if l == nil {
			continue
		}
		fmt.Fprintf(bw, "libc %s glibc %s", t.Name, orDash(l.Version))
		if l.From != "" {
			fmt.Fprintf(bw, " from %s", l.From)
		}
		if l.Package != "" {
			fmt.Fprintf(bw, " (%s %s)", l.Package, l.PackageVersion)
		}
		bw.WriteByte('\n')
	}
	for _, p := range r.PkgConfig {
		fmt.Fprintf(bw, "pkg-config %s %s %s\n", p.Module, orDash(p.Version), p.Path)
	}
	for _, p := range r.Packages {
		id := p.Name
		if p.Arch != "" && p.Arch != "all" {
			id += ":" + p.Arch
		}
		fmt.Fprintf(bw, "package %s %s\n", id, p.Version)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(bw, "%s %s %s", f.Severity, f.Kind, f.Path)
		if f.Target != "" && (f.Kind == KindDangling || f.Kind == KindEscaping || f.Kind == KindLoop) {
			fmt.Fprintf(bw, " -> %s", f.Target)
		}
		fmt.Fprintf(bw, ": %s\n", f.Message)
	}
	fmt.Fprintf(bw, "%s, %s\n", plural(r.Errors, "error"), plural(r.Warnings, "warning"))
	return bw.Flush()
}

// String is the text rendering.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteText(&b)
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
