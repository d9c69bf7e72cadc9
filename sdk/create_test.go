package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeApt answers the dpkg and apt commands Create runs from a table of
// packages, and runs dpkg-deb for real on .deb files built by buildDeb.
type fakeApt struct {
	native, foreign string
	lists           string            // indextargets output
	debs            map[string]string // NAME:ARCH as apt-cache show knows it -> .deb file
	arch            map[string]string // NAME:ARCH -> Architecture field
	depends         string            // apt-cache depends output
	downloadErr     string            // apt-get download's stderr, to fail
	calls           []string
}

func (f *fakeApt) run(ctx context.Context, dir string, stdout, stderr io.Writer, name string, args ...string) error {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	fail := func(msg string) error {
		fmt.Fprintln(stderr, msg)
		return errors.New("exit status 100")
	}
	switch {
	case name == "dpkg" && args[0] == "--print-architecture":
		fmt.Fprintln(stdout, f.native)
	case name == "dpkg" && args[0] == "--print-foreign-architectures":
		fmt.Fprintln(stdout, f.foreign)
	case name == "apt-get" && args[0] == "indextargets":
		fmt.Fprint(stdout, f.lists)
	case name == "apt-cache" && args[0] == "show":
		missing := false
		for _, n := range args[2:] {
			a, ok := f.arch[n]
			if !ok {
				fmt.Fprintf(stderr, "N: Unable to locate package %s\n", n)
				missing = true
				continue
			}
			pkg, _, _ := strings.Cut(n, ":")
			fmt.Fprintf(stdout, "Package: %s\nArchitecture: %s\nVersion: 1.0\n\n", pkg, a)
		}
		if missing {
			return fail("E: No packages found")
		}
	case name == "apt-cache" && args[0] == "depends":
		fmt.Fprint(stdout, f.depends)
	case name == "apt-get" && args[0] == "download":
		if f.downloadErr != "" {
			return fail(f.downloadErr)
		}
		for _, n := range args[1:] {
			deb, ok := f.debs[n]
			if !ok {
				return fail("E: Unable to locate package " + n)
			}
			data, err := os.ReadFile(deb)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(deb)), data, 0o644); err != nil {
				return err
			}
		}
	case name == "dpkg-deb":
		return execRun(ctx, dir, stdout, stderr, name, args...)
	default:
		return fmt.Errorf("fakeApt: unexpected %s %v", name, args)
	}
	return nil
}

// buildDeb makes a real .deb of files (see tree) with dpkg-deb --build.
func buildDeb(t *testing.T, out, pkg, arch string, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb")
	}
	root := t.TempDir()
	tree(t, root, files)
	os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755)
	control := fmt.Sprintf("Package: %s\nVersion: 1.0-1\nArchitecture: %s\nMaintainer: t <t@example.org>\nDescription: test package\n two lines\n", pkg, arch)
	if err := os.WriteFile(filepath.Join(root, "DEBIAN/control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(out, fmt.Sprintf("%s_1.0-1_%s.deb", pkg, arch))
	if o, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, o)
	}
	return deb
}

func arm64Apt(t *testing.T) *fakeApt {
	out := t.TempDir()
	return &fakeApt{
		native: "amd64", foreign: "arm64\n", lists: "amd64\namd64\narm64\n",
		debs: map[string]string{
			"libc6:arm64": buildDeb(t, out, "libc6", "arm64", map[string]string{
				"lib/aarch64-linux-gnu/libc.so.6":               libcBanner,
				"lib/ld-linux-aarch64.so.1":                     "->aarch64-linux-gnu/ld-linux-aarch64.so.1",
				"lib/aarch64-linux-gnu/ld-linux-aarch64.so.1":   "ld",
				"lib/aarch64-linux-gnu/libm.so.6":               "m",
				"lib/aarch64-linux-gnu/libcrosses.so":           "->../../usr/lib/aarch64-linux-gnu/crti.o",
				"usr/share/doc/libc6/copyright":                 "c",
				"usr/lib/aarch64-linux-gnu/gconv/gconv-modules": "g",
			}),
			"libc6-dev:arm64": buildDeb(t, out, "libc6-dev", "arm64", map[string]string{
				"usr/lib/aarch64-linux-gnu/libc.so":   libcScript,
				"usr/lib/aarch64-linux-gnu/crt1.o":    "o",
				"usr/lib/aarch64-linux-gnu/Scrt1.o":   "o",
				"usr/lib/aarch64-linux-gnu/crti.o":    "o",
				"usr/lib/aarch64-linux-gnu/crtn.o":    "o",
				"usr/lib/aarch64-linux-gnu/libm.so":   "->/lib/aarch64-linux-gnu/libm.so.6",
				"usr/include/aarch64-linux-gnu/bits/": "",
				"usr/include/stdio.h":                 "/* stdio */",
			}),
			"tzdata:all": buildDeb(t, out, "tzdata", "all", map[string]string{
				"usr/share/zoneinfo/UTC": "TZif",
			}),
		},
		arch: map[string]string{"libc6:arm64": "arm64", "libc6-dev:arm64": "arm64", "tzdata:all": "all"},
	}
}

func TestCreateUnpacksAndMergesUsr(t *testing.T) {
	f := arm64Apt(t)
	dir := filepath.Join(t.TempDir(), "sdk")
	var log bytes.Buffer
	c := &creator{run: f.run, log: &log}
	err := c.create(context.Background(), dir, CreateOptions{Arch: "arm64", Packages: []string{"libc6-dev", "libc6", "tzdata"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !slices.Contains(f.calls, "apt-get download libc6-dev:arm64 libc6:arm64 tzdata:all") {
		t.Errorf("calls: %q", f.calls)
	}
	// Merged: lib is a link, its files are in usr/lib.
	if tgt, err := os.Readlink(filepath.Join(dir, "lib")); err != nil || tgt != "usr/lib" {
		t.Errorf("lib -> %q, %v", tgt, err)
	}
	for _, p := range []string{"usr/lib/aarch64-linux-gnu/libc.so.6", "usr/lib/aarch64-linux-gnu/crt1.o", "usr/share/zoneinfo/UTC", "usr/include/stdio.h"} {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	// The relative link that climbed out of lib/ was rewritten to name the
	// same file from its new place.
	if tgt, _ := os.Readlink(filepath.Join(dir, "usr/lib/aarch64-linux-gnu/libcrosses.so")); tgt != "crti.o" {
		t.Errorf("libcrosses.so -> %q", tgt)
	}
	if tgt, _ := os.Readlink(filepath.Join(dir, "usr/lib/ld-linux-aarch64.so.1")); tgt != "aarch64-linux-gnu/ld-linux-aarch64.so.1" {
		t.Errorf("ld-linux-aarch64.so.1 -> %q", tgt)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".vroot-unpack-*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
	r, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Layout != "merged-usr" || r.Errors != 0 || r.Warnings != 0 {
		t.Errorf("check:\n%s", r)
	}
	if len(r.Triplets) != 1 || r.Triplets[0].Libc == nil || r.Triplets[0].Libc.Package != "libc6:arm64" || r.Triplets[0].Libc.Version != "2.36" {
		t.Errorf("check:\n%s", r)
	}
	if len(r.Packages) != 3 {
		t.Errorf("packages %+v", r.Packages)
	}
	st, _ := os.ReadFile(filepath.Join(dir, statusPath))
	if !strings.Contains(string(st), "Package: libc6\nStatus: install ok unpacked\nVersion: 1.0-1\nArchitecture: arm64\n") ||
		!strings.Contains(string(st), "Description: test package\n two lines\n") {
		t.Errorf("status:\n%s", st)
	}

	// Adding to the SDK replaces the packages' records, and a split SDK
	// given to a merging create is merged.
	f.debs["libc6:arm64"] = buildDeb(t, t.TempDir(), "libc6", "arm64", map[string]string{"lib/aarch64-linux-gnu/libc.so.6": libcBanner})
	if err := c.create(context.Background(), dir, CreateOptions{Arch: "arm64", Packages: []string{"libc6"}}); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.ReadFile(filepath.Join(dir, statusPath))
	if strings.Count(string(st2), "Package: libc6\n") != 1 || strings.Count(string(st2), "Package: ") != 3 {
		t.Errorf("status after adding:\n%s", st2)
	}
}

func TestCreateSplitUsr(t *testing.T) {
	f := arm64Apt(t)
	dir := t.TempDir()
	c := &creator{run: f.run, log: io.Discard}
	if err := c.create(context.Background(), dir, CreateOptions{Arch: "arm64", Packages: []string{"libc6"}, SplitUsr: true}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "lib")); err != nil || !fi.IsDir() {
		t.Fatalf("lib: %v %v", fi, err)
	}
	// Now merge it: the existing lib/ moves into usr/lib.
	if err := c.create(context.Background(), dir, CreateOptions{Arch: "arm64", Packages: []string{"libc6-dev"}}); err != nil {
		t.Fatal(err)
	}
	if tgt, err := os.Readlink(filepath.Join(dir, "lib")); err != nil || tgt != "usr/lib" {
		t.Fatalf("lib -> %q, %v", tgt, err)
	}
	r, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 || r.Layout != "merged-usr" || len(r.Triplets) != 1 || r.Triplets[0].Libc == nil {
		t.Errorf("%s", r)
	}
}

func TestCreateErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(f *fakeApt)
		opts  CreateOptions
		want  string
		is    error
	}{
		{"no packages", nil, CreateOptions{}, "no packages given", nil},
		{"bad name", nil, CreateOptions{Packages: []string{"-o=APT::x"}}, `"-o=APT::x" is not a Debian package name`, nil},
		{"arch not enabled", func(f *fakeApt) { f.foreign = "" }, CreateOptions{Arch: "arm64", Packages: []string{"libc6"}},
			"arm64 is not enabled on this machine: an administrator must run `dpkg --add-architecture arm64 && apt-get update` once", ErrArch},
		{"unknown arch", func(f *fakeApt) { f.foreign = "" }, CreateOptions{Arch: "vax", Packages: []string{"libc6"}},
			`"vax" is not an architecture dpkg knows here`, ErrArch},
		{"no lists", func(f *fakeApt) { f.lists = "amd64\n" }, CreateOptions{Arch: "arm64", Packages: []string{"libc6"}},
			"apt has no package lists for arm64: an administrator must run `apt-get update`", ErrArch},
		{"no such package", nil, CreateOptions{Arch: "arm64", Packages: []string{"libc6", "nosuch"}},
			"no package nosuch:arm64: not in apt's package lists", nil},
		{"offline", func(f *fakeApt) {
			f.downloadErr = "Err:1 http://deb.debian.org/debian bookworm/main arm64 libc6 arm64 2.36-9\n  Temporary failure resolving 'deb.debian.org'\nE: Failed to fetch http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.36-9_arm64.deb  Temporary failure resolving 'deb.debian.org'"
		}, CreateOptions{Arch: "arm64", Packages: []string{"libc6"}},
			"apt-get download failed (are the Debian mirrors reachable?): E: Failed to fetch", ErrDownload},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := arm64Apt(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			c := &creator{run: f.run, log: io.Discard}
			dir := filepath.Join(t.TempDir(), "sdk")
			err := c.create(ctx, dir, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err %v is not %v", err, tc.is)
			}
			if _, err := os.Stat(dir); err == nil && tc.is != nil {
				t.Errorf("%s created on failure", dir)
			}
		})
	}
}

func TestCreateWithDeps(t *testing.T) {
	f := arm64Apt(t)
	f.depends = `libc6-dev:arm64
  Depends: libc6:arm64
  Depends: <libc-dev-bin:arm64>
libc6:arm64
  Depends: libgcc-s1:arm64
<libc-dev-bin:arm64>
rpcsvc-proto
tzdata
libc6:i386
`
	f.arch["rpcsvc-proto:amd64"] = "amd64" // native, Multi-Arch: foreign: not for the SDK
	c := &creator{run: f.run, log: io.Discard}
	got, err := c.deps(context.Background(), []string{"libc6-dev:arm64"}, "arm64", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"libc6-dev:arm64", "libc6:arm64", "tzdata:all"}
	if !slices.Equal(got, want) {
		t.Errorf("deps = %v, want %v", got, want)
	}
	// For the native architecture, unqualified names are the
	// architecture's own.
	got, err = c.deps(context.Background(), []string{"libc6-dev:amd64"}, "amd64", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"libc6-dev:amd64", "rpcsvc-proto:amd64", "tzdata:amd64"}
	if !slices.Equal(got, want) {
		t.Errorf("native deps = %v, want %v", got, want)
	}
}

func TestRelink(t *testing.T) {
	for _, tc := range []struct{ rel, tgt, want string }{
		{"lib/x/a.so", "a.so.1", "a.so.1"},
		{"lib/x/a.so", "../../usr/lib/x/b", "b"},
		{"lib/a", "x/a", "x/a"},
		{"lib/x/a", "../../etc/foo", "../../../etc/foo"},
		{"lib/x/a", "/lib/x/b", "/lib/x/b"},
		{"bin/sh", "dash", "dash"},
		{"sbin/x", "../bin/y", "../bin/y"}, // both move: still right
	} {
		if got := relink(tc.rel, mergedPath(tc.rel), tc.tgt, mergedPath); got != tc.want {
			t.Errorf("relink(%s -> %s) = %q, want %q", tc.rel, tc.tgt, got, tc.want)
		}
	}
}

func TestControlRoundTrip(t *testing.T) {
	ss, err := parseControl(strings.NewReader(statusText))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 || ss[0].get("description") != "GNU C Library: Shared libraries\n Contains the standard libraries." {
		t.Fatalf("%q", ss)
	}
	var b bytes.Buffer
	writeControl(&b, ss)
	if b.String() != statusText {
		t.Errorf("round trip:\n%s", b.String())
	}
}

func TestCreateNeedsWritableDir(t *testing.T) {
	f := arm64Apt(t)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	c := &creator{run: f.run, log: io.Discard}
	err := c.create(context.Background(), filepath.Join(file, "sdk"), CreateOptions{Arch: "arm64", Packages: []string{"libc6"}})
	if err == nil || !strings.Contains(err.Error(), file+": not a directory") {
		t.Fatalf("err = %v", err)
	}
	for _, call := range f.calls {
		if strings.HasPrefix(call, "apt-get download") {
			t.Errorf("downloaded before failing: %q", f.calls)
		}
	}
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		os.Chmod(ro, 0o555)
		defer os.Chmod(ro, 0o755)
		err := c.create(context.Background(), filepath.Join(ro, "sdk"), CreateOptions{Arch: "arm64", Packages: []string{"libc6"}})
		if err == nil || !strings.Contains(err.Error(), "cannot write there") {
			t.Errorf("read-only parent: err = %v", err)
		}
	}
}
