package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// CreateOptions say what Create puts into an SDK.
type CreateOptions struct {
	// Arch is the Debian architecture of the packages (arm64); empty means
	// the host's (dpkg --print-architecture).
	Arch string
	// Packages are Debian binary package names. A name without ":ARCH" is
	// taken for Arch, or for "all" if it is an Architecture: all package.
	Packages []string
	// WithDeps adds what the packages depend on (Depends and Pre-Depends,
	// recursively, no Recommends), as apt-cache depends lists it, keeping
	// the packages of Arch and Architecture: all ones.
	WithDeps bool
	// SplitUsr keeps /lib, /bin, ... as the packages ship them instead of
	// merging them into /usr as Debian 12 hosts are (see the package doc).
	SplitUsr bool
	// Log receives progress and apt's output; nil discards them.
	Log io.Writer
}

// ErrDownload is wrapped by the error Create returns when apt-get could not
// fetch the packages (no network, mirror unreachable): the one failure that
// is not about the request or the machine's setup.
var ErrDownload = errors.New("apt-get download failed")

// ErrArch is wrapped by the error Create returns when apt cannot serve the
// requested architecture on this machine; the message says what an
// administrator must run.
var ErrArch = errors.New("architecture not available")

// usrMerged are the top-level directories that a merged /usr folds into
// /usr (usrmerge's list).
var usrMerged = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32", "libo32"}

// runFunc runs a command in dir with its output sent to stdout and stderr.
type runFunc func(ctx context.Context, dir string, stdout, stderr io.Writer, name string, args ...string) error

func execRun(ctx context.Context, dir string, stdout, stderr io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	// apt's messages are matched below; keep them in English.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANGUAGE=")
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

type creator struct {
	run runFunc
	log io.Writer
}

// Create assembles an SDK in dir (created if needed; an existing SDK gets
// the packages added) from Debian binary packages, without root: `apt-get
// download` into a temporary directory, then `dpkg-deb -x` of each package
// into dir, /usr merged unless opts.SplitUsr, and the packages recorded in
// dir/var/lib/dpkg/status. No maintainer script runs and nothing is
// registered on the host.
func Create(ctx context.Context, dir string, opts CreateOptions) error {
	c := &creator{run: execRun, log: opts.Log}
	if c.log == nil {
		c.log = io.Discard
	}
	return c.create(ctx, dir, opts)
}

// pkgNameRE is a Debian package name, optionally qualified by an
// architecture. Checking it also keeps names from being taken for options.
var pkgNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$`)

func (c *creator) create(ctx context.Context, dir string, opts CreateOptions) error {
	if dir == "" {
		return errors.New("no SDK directory given")
	}
	if len(opts.Packages) == 0 {
		return errors.New("no packages given")
	}
	for _, p := range opts.Packages {
		if !pkgNameRE.MatchString(p) {
			return fmt.Errorf("%q is not a Debian package name", p)
		}
	}
	native, err := c.output(ctx, "dpkg", "--print-architecture")
	if err != nil {
		return fmt.Errorf("dpkg --print-architecture: %w (vroot sdk create needs Debian's dpkg and apt)", err)
	}
	native = strings.TrimSpace(native)
	arch := opts.Arch
	if arch == "" {
		arch = native
	}
	if !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(arch) {
		return fmt.Errorf("%q is not a Debian architecture name", arch)
	}
	if err := c.checkArch(ctx, arch, native); err != nil {
		return err
	}
	if err := writable(dir); err != nil {
		return err
	}

	names := make([]string, 0, len(opts.Packages))
	for _, p := range opts.Packages {
		if !strings.Contains(p, ":") {
			p += ":" + arch
		}
		names = append(names, p)
	}
	if opts.WithDeps {
		if names, err = c.deps(ctx, names, arch, native); err != nil {
			return err
		}
	}
	want, err := c.candidates(ctx, names)
	if err != nil {
		return err
	}

	debDir, err := os.MkdirTemp("", "vroot-sdk-debs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(debDir)
	fmt.Fprintf(c.log, "sdk: downloading %d packages: %s\n", len(want), strings.Join(want, " "))
	var aptErr bytes.Buffer
	args := append([]string{"download"}, want...)
	if err := c.run(ctx, debDir, c.log, io.MultiWriter(c.log, &aptErr), "apt-get", args...); err != nil {
		return aptFailure("download", err, aptErr.String())
	}
	debs, _ := filepath.Glob(filepath.Join(debDir, "*.deb"))
	sort.Strings(debs)
	if len(debs) != len(want) {
		return fmt.Errorf("apt-get download fetched %d packages for %d requested", len(debs), len(want))
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	unpack, err := os.MkdirTemp(dir, ".vroot-unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(unpack)
	var controls []stanza
	for _, deb := range debs {
		fmt.Fprintf(c.log, "sdk: unpacking %s\n", filepath.Base(deb))
		var out, errb bytes.Buffer
		if err := c.run(ctx, "", c.log, &errb, "dpkg-deb", "-x", deb, unpack); err != nil {
			return fmt.Errorf("dpkg-deb -x %s: %v: %s", filepath.Base(deb), err, lastLine(errb.String()))
		}
		if err := c.run(ctx, "", &out, &errb, "dpkg-deb", "-f", deb); err != nil {
			return fmt.Errorf("dpkg-deb -f %s: %v: %s", filepath.Base(deb), err, lastLine(errb.String()))
		}
		ss, err := parseControl(&out)
		if err != nil || len(ss) == 0 {
			return fmt.Errorf("dpkg-deb -f %s: no control fields", filepath.Base(deb))
		}
		controls = append(controls, ss[0])
	}
	if err := install(unpack, dir, opts.SplitUsr); err != nil {
		return err
	}
	if err := recordUnpacked(dir, controls); err != nil {
		return fmt.Errorf("recording the packages in %s: %w", statusPath, err)
	}
	fmt.Fprintf(c.log, "sdk: %d packages unpacked into %s\n", len(controls), dir)
	return nil
}

// writable fails early, before any download, if dir (or the directory it
// would be created in) cannot be written.
func writable(dir string) error {
	p := filepath.Clean(dir)
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s: not a directory", p)
			}
			if err := syscall.Access(p, 2 /* W_OK */); err != nil {
				return fmt.Errorf("%s: cannot write there: %w", p, err)
			}
			return nil
		}
		parent := filepath.Dir(p)
		if parent == p || !os.IsNotExist(err) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
		p = parent
	}
}

// output runs a command and returns its standard output.
func (c *creator) output(ctx context.Context, name string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	if err := c.run(ctx, "", &out, &errb, name, args...); err != nil {
		if s := lastLine(errb.String()); s != "" {
			return out.String(), fmt.Errorf("%v: %s", err, s)
		}
		return out.String(), err
	}
	return out.String(), nil
}

// checkArch makes sure apt can serve arch, and says what an administrator
// must do if it cannot.
func (c *creator) checkArch(ctx context.Context, arch, native string) error {
	if arch != native {
		out, err := c.output(ctx, "dpkg", "--print-foreign-architectures")
		if err != nil {
			return fmt.Errorf("dpkg --print-foreign-architectures: %w", err)
		}
		if !slices.Contains(strings.Fields(out), arch) {
			if Triplet(arch) == "" {
				return fmt.Errorf("%w: %q is not an architecture dpkg knows here (the host is %s)", ErrArch, arch, native)
			}
			return fmt.Errorf("%w: %s is not enabled on this machine: an administrator must run `dpkg --add-architecture %s && apt-get update` once (vroot sdk create then needs no root)", ErrArch, arch, arch)
		}
	}
	out, err := c.output(ctx, "apt-get", "indextargets", "--format", "$(ARCHITECTURE)", "Identifier: Packages")
	if err != nil {
		// Old apt without indextargets: let apt-get download speak.
		return nil
	}
	if !slices.Contains(strings.Fields(out), arch) {
		return fmt.Errorf("%w: apt has no package lists for %s: an administrator must run `apt-get update` (after `dpkg --add-architecture %s` for a foreign architecture)", ErrArch, arch, arch)
	}
	return nil
}

// deps adds the recursive dependencies of names, as apt-cache lists them.
func (c *creator) deps(ctx context.Context, names []string, arch, native string) ([]string, error) {
	args := append([]string{"depends", "--recurse", "--no-recommends", "--no-suggests",
		"--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"}, names...)
	out, err := c.output(ctx, "apt-cache", args...)
	if err != nil {
		return nil, fmt.Errorf("apt-cache depends: %w", err)
	}
	seen := map[string]bool{}
	all := append([]string(nil), names...)
	for _, n := range names {
		seen[n] = true
	}
	var unqualified []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '<' {
			continue // a dependency line, or a virtual package
		}
		n := strings.TrimSpace(line)
		name, a, qualified := strings.Cut(n, ":")
		switch {
		case qualified && a == arch:
		case qualified:
			continue
		case arch == native:
			n = name + ":" + arch
		default:
			// A foreign SDK's unqualified dependency is a native package
			// (Multi-Arch: foreign) or an Architecture: all one; only the
			// latter belongs in the SDK.
			unqualified = append(unqualified, name)
			continue
		}
		if !seen[n] {
			seen[n] = true
			all = append(all, n)
		}
	}
	if len(unqualified) > 0 {
		found := c.show(ctx, qualify(unqualified, "all"))
		for _, n := range unqualified {
			if _, ok := found[n+":all"]; ok && !seen[n+":all"] {
				seen[n+":all"] = true
				all = append(all, n+":all")
			}
		}
	}
	fmt.Fprintf(c.log, "sdk: with dependencies: %d packages\n", len(all))
	return all, nil
}

func qualify(names []string, arch string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + ":" + arch
	}
	return out
}

// show runs apt-cache show for the candidate versions of names and returns
// the stanzas found, keyed by NAME:ARCH.
func (c *creator) show(ctx context.Context, names []string) map[string]stanza {
	var out, errb bytes.Buffer
	// apt-cache exits 100 when some name is missing; what it found is still
	// printed.
	c.run(ctx, "", &out, &errb, "apt-cache", append([]string{"show", "--no-all-versions"}, names...)...)
	ss, _ := parseControl(&out)
	found := map[string]stanza{}
	for _, s := range ss {
		found[s.get("Package")+":"+s.get("Architecture")] = s
	}
	return found
}

// candidates maps each NAME:ARCH to what apt can download: itself, or
// NAME:all for an Architecture: all package.
func (c *creator) candidates(ctx context.Context, names []string) ([]string, error) {
	found := c.show(ctx, names)
	var out, retry []string
	for _, n := range names {
		if _, ok := found[n]; ok {
			out = append(out, n)
		} else {
			retry = append(retry, n)
		}
	}
	if len(retry) == 0 {
		return out, nil
	}
	var all []string
	for _, n := range retry {
		name, _, _ := strings.Cut(n, ":")
		all = append(all, name+":all")
	}
	found2 := c.show(ctx, all)
	var missing []string
	for i, n := range retry {
		if _, ok := found2[all[i]]; ok {
			out = append(out, all[i])
		} else {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		// apt-cache show prints nothing at all for a virtual package.
		return nil, fmt.Errorf("no package %s: not in apt's package lists (a virtual package? name one that provides it: apt-cache showpkg NAME)", strings.Join(missing, ", "))
	}
	return out, nil
}

// aptFailure turns apt's failure into an error saying which kind it is.
func aptFailure(what string, err error, stderr string) error {
	msg := lastError(stderr)
	if msg == "" {
		msg = err.Error()
	}
	for _, s := range []string{"Failed to fetch", "Could not resolve", "Temporary failure resolving",
		"Unable to connect", "Could not connect", "Connection failed", "Connection timed out",
		"Unable to fetch some archives", "Network is unreachable"} {
		if strings.Contains(stderr, s) {
			return fmt.Errorf("%w (are the Debian mirrors reachable?): %s", ErrDownload, msg)
		}
	}
	return fmt.Errorf("apt-get %s: %s", what, msg)
}

// lastError is apt's first "E:" line, or the last line.
func lastError(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "E: ") {
			return strings.TrimSpace(l)
		}
	}
	return lastLine(s)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// mergedPath is where a slash-separated path relative to the root lands
// in a merged /usr: lib/x -> usr/lib/x.
func mergedPath(rel string) string {
	first, _, _ := strings.Cut(rel, "/")
	if slices.Contains(usrMerged, first) {
		return "usr/" + rel
	}
	return rel
}

// install moves the unpacked tree src into the SDK dst: directories are
// created (or kept, also through a symlink to a directory, as dpkg does),
// everything else is moved over what dst had. Unless split, /usr is merged
// the way Debian 12 hosts are: first what dst already had in a real lib,
// bin, ... directory, then the new files, then the lib -> usr/lib links.
func install(src, dst string, split bool) error {
	mapping := func(rel string) string { return rel }
	if !split {
		mapping = mergedPath
		for _, d := range usrMerged {
			fi, err := os.Lstat(filepath.Join(dst, d))
			if err != nil || !fi.IsDir() {
				continue
			}
			// A split SDK being merged: its d/ moves into usr/d/.
			if err := moveTree(filepath.Join(dst, d), d+"/", dst, mapping); err != nil {
				return err
			}
			if err := os.RemoveAll(filepath.Join(dst, d)); err != nil {
				return err
			}
		}
	}
	if err := moveTree(src, "", dst, mapping); err != nil {
		return err
	}
	if split {
		return nil
	}
	for _, d := range usrMerged {
		if _, err := os.Lstat(filepath.Join(dst, "usr", d)); err != nil {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dst, d)); err == nil {
			continue
		}
		if err := os.Symlink("usr/"+d, filepath.Join(dst, d)); err != nil {
			return err
		}
	}
	return nil
}

// moveTree moves the tree at srcRoot, whose paths relative to the SDK root
// are prefix + its own, to dst at mapping(those paths).
func moveTree(srcRoot, prefix, dst string, mapping func(string) string) error {
	return filepath.WalkDir(srcRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(srcRoot, p)
		if r == "." {
			return nil
		}
		rel := prefix + filepath.ToSlash(r)
		to := mapping(rel)
		target := filepath.Join(dst, filepath.FromSlash(to))
		if to != rel {
			// lib/ is walked before usr/: its new parent may not exist yet.
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
		}
		if d.IsDir() {
			fi, err := os.Stat(target)
			switch {
			case err == nil && fi.IsDir():
				return nil
			case err == nil:
				return fmt.Errorf("/%s: a directory in the package, not a directory in the SDK", to)
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.Mkdir(target, info.Mode().Perm()|0o700)
		}
		if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
			return fmt.Errorf("/%s: a directory in the SDK, not a directory in the package", to)
		}
		if d.Type()&fs.ModeSymlink != 0 && to != rel {
			tgt, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if nt := relink(rel, to, tgt, mapping); nt != tgt {
				os.Remove(target)
				if err := os.Symlink(nt, target); err != nil {
					return err
				}
				return os.Remove(p)
			}
		}
		return os.Rename(p, target)
	})
}

// relink returns the target a relative symlink moved from rel to to must
// have to name the same file, in the tree where mapping has been applied.
func relink(rel, to, tgt string, mapping func(string) string) string {
	if path.IsAbs(tgt) {
		return tgt // resolved in the guest view, through the new lib -> usr/lib
	}
	abs := func(p string) string { return "/" + mapping(strings.TrimPrefix(path.Clean(p), "/")) }
	want := abs(path.Join("/", path.Dir(rel), tgt))
	if abs(path.Join("/", path.Dir(to), tgt)) == want {
		return tgt
	}
	r, err := filepath.Rel(path.Dir("/"+to), want)
	if err != nil {
		return tgt
	}
	return filepath.ToSlash(r)
}
