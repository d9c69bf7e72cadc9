package sdk

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// tree builds files under root: a value starting with "->" is a symlink,
// one ending in "/" a directory, anything else a file's content.
func tree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := files[k]
		p := filepath.Join(root, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(v, "->"):
			if err := os.Symlink(strings.TrimPrefix(v, "->"), p); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(k, "/"):
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		default:
			if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

const (
	libcBanner = "\x00\x00GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36.\nCopyright (C) 2022\x00"
	libcScript = "/* GNU ld script */\nOUTPUT_FORMAT(elf64-littleaarch64)\nGROUP ( /lib/aarch64-linux-gnu/libc.so.6 /usr/lib/aarch64-linux-gnu/libc_nonshared.a  AS_NEEDED ( /lib/ld-linux-aarch64.so.1 ) )\n"
	statusText = `Package: libc6
Status: install ok unpacked
Architecture: arm64
Version: 2.36-9+deb12u14
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: zlib1g-dev
Status: install ok unpacked
Architecture: arm64
Version: 1:1.2.13.dfsg-1

Package: gone
Status: deinstall ok config-files
Architecture: arm64
Version: 1.0
`
)

// arm64SDK is a merged-/usr arm64 SDK as Create makes it, with nothing
// wrong in it.
func arm64SDK(t *testing.T) string {
	root := t.TempDir()
	tree(t, root, map[string]string{
		"lib":                           "->usr/lib",
		"usr/lib/ld-linux-aarch64.so.1": "->aarch64-linux-gnu/ld-linux-aarch64.so.1",
		"usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1":      "ld",
		"usr/lib/aarch64-linux-gnu/libc.so.6":                  libcBanner,
		"usr/lib/aarch64-linux-gnu/libc.so":                    libcScript,
		"usr/lib/aarch64-linux-gnu/libc_nonshared.a":           "!<arch>\n",
		"usr/lib/aarch64-linux-gnu/crt1.o":                     "o",
		"usr/lib/aarch64-linux-gnu/Scrt1.o":                    "o",
		"usr/lib/aarch64-linux-gnu/crti.o":                     "o",
		"usr/lib/aarch64-linux-gnu/crtn.o":                     "o",
		"usr/lib/aarch64-linux-gnu/libz.so.1.2.13":             "z",
		"usr/lib/aarch64-linux-gnu/libz.so.1":                  "->libz.so.1.2.13",
		"usr/lib/aarch64-linux-gnu/libz.so":                    "->/lib/aarch64-linux-gnu/libz.so.1.2.13",
		"usr/lib/aarch64-linux-gnu/pkgconfig/zlib.pc":          "prefix=/usr\nlibdir=${prefix}/lib/aarch64-linux-gnu\nv=1.2.13\n\nName: zlib\nDescription: zlib compression library\nVersion: ${v}\nLibs: -L${libdir} -lz\n",
		"usr/share/pkgconfig/xorg-macros.pc":                   "Name: X.Org Macros\nVersion: 1.19.3\n",
		"usr/include/zlib.h":                                   "/* zlib */",
		"usr/include/aarch64-linux-gnu/bits/wordsize.h":        "#define __WORDSIZE 64",
		"usr/include/aarch64-linux-gnu/gnu/stubs.h":            "",
		"usr/lib/gcc-cross/":                                   "",
		"usr/share/doc/libc6/copyright":                        "c",
		"var/lib/dpkg/status":                                  statusText,
		"usr/lib/aarch64-linux-gnu/gconv/gconv-modules.d/":     "",
		"usr/lib/aarch64-linux-gnu/gconv/gconv-modules":        "->gconv-modules.d",
		"usr/share/lintian/overrides/libc6":                    "x",
		"usr/lib/aarch64-linux-gnu/libc_malloc_debug.so":       "->libc_malloc_debug.so.0",
		"usr/lib/aarch64-linux-gnu/libc_malloc_debug.so.0":     "m",
		"usr/include/aarch64-linux-gnu/asm/":                   "",
		"usr/include/aarch64-linux-gnu/asm/../asm/types.h":     "",
		"usr/lib/aarch64-linux-gnu/../aarch64-linux-gnu/x.txt": "",
	})
	return root
}

func TestCheckArm64SDK(t *testing.T) {
	root := arm64SDK(t)
	r, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	if r.Layout != "merged-usr" {
		t.Errorf("Layout = %q", r.Layout)
	}
	if len(r.Findings) != 0 {
		t.Errorf("findings in a clean SDK:\n%s", r)
	}
	if len(r.Triplets) != 1 {
		t.Fatalf("Triplets = %+v", r.Triplets)
	}
	tr := r.Triplets[0]
	if tr.Name != "aarch64-linux-gnu" || tr.Arch != "arm64" {
		t.Errorf("triplet %q (%q)", tr.Name, tr.Arch)
	}
	// /lib/aarch64-linux-gnu is the same directory: listed once.
	if !slices.Equal(tr.LibDirs, []string{"/usr/lib/aarch64-linux-gnu"}) {
		t.Errorf("LibDirs = %v", tr.LibDirs)
	}
	if !slices.Equal(tr.IncludeDirs, []string{"/usr/include/aarch64-linux-gnu"}) {
		t.Errorf("IncludeDirs = %v", tr.IncludeDirs)
	}
	if !slices.Equal(tr.Crt, crtFiles) {
		t.Errorf("Crt = %v", tr.Crt)
	}
	if tr.LibcSo != "/usr/lib/aarch64-linux-gnu/libc.so" {
		t.Errorf("LibcSo = %q", tr.LibcSo)
	}
	want := Libc{Version: "2.36", From: "/usr/lib/aarch64-linux-gnu/libc.so.6", Package: "libc6:arm64", PackageVersion: "2.36-9+deb12u14"}
	if tr.Libc == nil || *tr.Libc != want {
		t.Errorf("Libc = %+v, want %+v", tr.Libc, want)
	}
	wantPC := []PkgConfig{
		{Module: "xorg-macros", Name: "X.Org Macros", Version: "1.19.3", Path: "/usr/share/pkgconfig/xorg-macros.pc"},
		{Module: "zlib", Name: "zlib", Version: "1.2.13", Path: "/usr/lib/aarch64-linux-gnu/pkgconfig/zlib.pc"},
	}
	if !slices.Equal(r.PkgConfig, wantPC) {
		t.Errorf("PkgConfig = %+v", r.PkgConfig)
	}
	wantPkgs := []Package{
		{Name: "libc6", Arch: "arm64", Version: "2.36-9+deb12u14", Status: "install ok unpacked"},
		{Name: "zlib1g-dev", Arch: "arm64", Version: "1:1.2.13.dfsg-1", Status: "install ok unpacked"},
	}
	if !slices.Equal(r.Packages, wantPkgs) {
		t.Errorf("Packages = %+v", r.Packages)
	}
	text := r.String()
	for _, line := range []string{
		"sdk " + r.Dir + " (merged-usr)",
		"triplet aarch64-linux-gnu (arm64) lib /usr/lib/aarch64-linux-gnu include /usr/include/aarch64-linux-gnu crt crt1.o Scrt1.o crti.o crtn.o",
		"libc aarch64-linux-gnu glibc 2.36 from /usr/lib/aarch64-linux-gnu/libc.so.6 (libc6:arm64 2.36-9+deb12u14)",
		"pkg-config zlib 1.2.13 /usr/lib/aarch64-linux-gnu/pkgconfig/zlib.pc",
		"pkg-config xorg-macros 1.19.3 /usr/share/pkgconfig/xorg-macros.pc",
		"package libc6:arm64 2.36-9+deb12u14",
		"package zlib1g-dev:arm64 1:1.2.13.dfsg-1",
		"0 errors, 0 warnings",
	} {
		if !slices.Contains(strings.Split(text, "\n"), line) {
			t.Errorf("no line %q in:\n%s", line, text)
		}
	}
}

// The libc version comes from the package when libc.so.6 has no banner
// (another C library, or a stripped stub).
func TestCheckLibcFromPackage(t *testing.T) {
	root := arm64SDK(t)
	os.WriteFile(filepath.Join(root, "usr/lib/aarch64-linux-gnu/libc.so.6"), []byte("\x7fELF"), 0o644)
	r, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	want := Libc{Version: "2.36", Package: "libc6:arm64", PackageVersion: "2.36-9+deb12u14"}
	if l := r.Triplets[0].Libc; l == nil || *l != want {
		t.Errorf("Libc = %+v, want %+v", l, want)
	}
}

func findings(r *Report) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range r.Findings {
		m[f.Kind+" "+f.Path] = f
	}
	return m
}

func TestCheckFindings(t *testing.T) {
	root := t.TempDir()
	hostLib := "usr/lib/" + hostTriplet()
	tree(t, root, map[string]string{
		// A split /usr: lib is a real directory.
		"lib/aarch64-linux-gnu/libc.so.6":        libcBanner,
		"usr/lib/aarch64-linux-gnu/libc.so":      libcScript,
		"usr/lib/aarch64-linux-gnu/crti.o":       "o",
		"usr/lib/aarch64-linux-gnu/dangling.so":  "->libnothere.so.1",
		"usr/lib/aarch64-linux-gnu/notdir.so":    "->crti.o/x",
		"usr/lib/aarch64-linux-gnu/escapes-host": "->/etc/passwd",
		"usr/lib/aarch64-linux-gnu/escapes-gone": "->/nonexistent-vroot-target/x",
		"usr/lib/aarch64-linux-gnu/loop1":        "->loop2",
		"usr/lib/aarch64-linux-gnu/loop2":        "->loop1",
		// Resolved in SDK space: ".." stops at the SDK's root, so this
		// reaches /usr/lib/aarch64-linux-gnu/crti.o inside the SDK.
		"usr/lib/aarch64-linux-gnu/clamped": "->../../../../../../usr/lib/aarch64-linux-gnu/crti.o",
		// An absolute link that the SDK satisfies is fine.
		"usr/lib/aarch64-linux-gnu/abs-ok": "->/usr/lib/aarch64-linux-gnu/crti.o",
		hostLib + "/libc.so.6":             libcBanner,
		// A chroot's runtime directories are not looked at.
		"proc/self": "->nowhere",
		"dev/stdin": "->/proc/self/fd/0",
	})
	r, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	got := findings(r)
	for key, sev := range map[string]Severity{
		"split-usr /lib": SevWarning,
		"dangling-symlink /usr/lib/aarch64-linux-gnu/dangling.so":  SevError,
		"dangling-symlink /usr/lib/aarch64-linux-gnu/notdir.so":    SevError,
		"escaping-symlink /usr/lib/aarch64-linux-gnu/escapes-host": SevError,
		"escaping-symlink /usr/lib/aarch64-linux-gnu/escapes-gone": SevError,
		"symlink-loop /usr/lib/aarch64-linux-gnu/loop1":            SevError,
		"symlink-loop /usr/lib/aarch64-linux-gnu/loop2":            SevError,
		"missing-crt /usr/lib/aarch64-linux-gnu":                   SevError,
		"host-libc /" + hostLib + "/libc.so.6":                     SevWarning,
	} {
		f, ok := got[key]
		if !ok {
			t.Errorf("no finding %q", key)
			continue
		}
		if f.Severity != sev {
			t.Errorf("%s: severity %s, want %s", key, f.Severity, sev)
		}
		delete(got, key)
	}
	for k, f := range got {
		t.Errorf("unexpected finding %s: %s", k, f.Message)
	}
	if r.Errors != 7 || r.Warnings != 2 {
		t.Errorf("Errors %d, Warnings %d", r.Errors, r.Warnings)
	}
	f := findings(r)
	if m := f["missing-crt /usr/lib/aarch64-linux-gnu"]; m.Target != "crt1.o Scrt1.o crtn.o" {
		t.Errorf("missing-crt target %q", m.Target)
	}
	if m := f["escaping-symlink /usr/lib/aarch64-linux-gnu/escapes-host"].Message; !strings.Contains(m, "reads the host's /etc/passwd") {
		t.Errorf("escaping message: %s", m)
	}
	if m := f["escaping-symlink /usr/lib/aarch64-linux-gnu/escapes-gone"].Message; !strings.Contains(m, "host has no such file") {
		t.Errorf("escaping message: %s", m)
	}
	// The split /lib directory still counts for the triplet.
	var tr *TripletInfo
	for i := range r.Triplets {
		if r.Triplets[i].Name == "aarch64-linux-gnu" {
			tr = &r.Triplets[i]
		}
	}
	if tr == nil || !slices.Equal(tr.LibDirs, []string{"/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu"}) {
		t.Fatalf("triplet %+v", tr)
	}
	if tr.Libc == nil || tr.Libc.From != "/lib/aarch64-linux-gnu/libc.so.6" {
		t.Errorf("Libc %+v", tr.Libc)
	}

	// Text: errors first, one finding per line.
	lines := strings.Split(strings.TrimSuffix(r.String(), "\n"), "\n")
	var fl []string
	for _, l := range lines {
		if strings.HasPrefix(l, "error ") || strings.HasPrefix(l, "warning ") {
			fl = append(fl, l)
		}
	}
	if len(fl) != 9 {
		t.Fatalf("%d finding lines:\n%s", len(fl), r)
	}
	if !strings.HasPrefix(fl[0], "error ") || !strings.HasPrefix(fl[8], "warning ") {
		t.Errorf("order:\n%s", strings.Join(fl, "\n"))
	}
	if !slices.Contains(fl, "error dangling-symlink /usr/lib/aarch64-linux-gnu/dangling.so -> libnothere.so.1: dangling: /usr/lib/aarch64-linux-gnu/libnothere.so.1 is missing in the SDK") {
		t.Errorf("dangling line:\n%s", strings.Join(fl, "\n"))
	}
	if lines[len(lines)-1] != "7 errors, 2 warnings" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
}

func TestCheckJSON(t *testing.T) {
	r, err := Check(arm64SDK(t))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dir", "layout", "triplets", "pkgconfig", "packages", "findings", "errors", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no key %q in %s", k, data)
		}
	}
	tr := m["triplets"].([]any)[0].(map[string]any)
	if tr["name"] != "aarch64-linux-gnu" || tr["libc"].(map[string]any)["version"] != "2.36" {
		t.Errorf("triplet %v", tr)
	}
	// An empty report still has lists, not nulls.
	r2, err := Check(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(r2)
	if strings.Contains(string(data), "null") {
		t.Errorf("nulls in %s", data)
	}
	if len(r2.Findings) != 1 || r2.Findings[0].Kind != KindEmpty {
		t.Errorf("empty SDK findings %+v", r2.Findings)
	}
}

func TestCheckCrossLayout(t *testing.T) {
	root := t.TempDir()
	tree(t, root, map[string]string{
		"usr/aarch64-linux-gnu/include/stdio.h":   "",
		"usr/aarch64-linux-gnu/lib/libc.so":       libcScript,
		"usr/aarch64-linux-gnu/lib/libc.so.6":     libcBanner,
		"usr/aarch64-linux-gnu/lib/crt1.o":        "",
		"usr/aarch64-linux-gnu/lib/Scrt1.o":       "",
		"usr/aarch64-linux-gnu/lib/crti.o":        "",
		"usr/aarch64-linux-gnu/lib/crtn.o":        "",
		"usr/lib/gcc-cross/aarch64-linux-gnu/12/": "",
	})
	r, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Triplets) != 1 || !slices.Equal(r.Triplets[0].LibDirs, []string{"/usr/aarch64-linux-gnu/lib"}) ||
		!slices.Equal(r.Triplets[0].IncludeDirs, []string{"/usr/aarch64-linux-gnu/include"}) {
		t.Fatalf("triplets %+v", r.Triplets)
	}
	if r.Layout != "usr-only" || r.Errors != 0 {
		t.Errorf("%s", r)
	}
}

func TestCheckNotADir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, nil, 0o644)
	if _, err := Check(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("err = %v", err)
	}
	if _, err := Check(filepath.Join(f, "..", "nonexistent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

func TestResolveInSDKSpace(t *testing.T) {
	root := t.TempDir()
	tree(t, root, map[string]string{
		"lib":                 "->usr/lib",
		"usr/lib/a/f":         "f",
		"usr/lib/abs":         "->/lib/a",
		"usr/lib/up":          "->../../../../lib/a/f",
		"usr/lib/dotdot":      "->a/../a/./f",
		"usr/lib/file-as-dir": "->a/f/x",
		"usr/lib/self":        "->self",
	})
	s := space{root}
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"/lib/a/f", "/usr/lib/a/f", nil},
		{"/usr/lib/abs/f", "/usr/lib/a/f", nil},
		{"/usr/lib/up", "/usr/lib/a/f", nil},
		{"/usr/lib/dotdot", "/usr/lib/a/f", nil},
		{"/../../lib/./a/../a/f", "/usr/lib/a/f", nil},
		{"/lib/abs/../a", "/usr/lib/a", nil},
		{"/usr/lib/missing", "/usr/lib/missing", os.ErrNotExist},
		{"/usr/lib/file-as-dir", "/usr/lib/a/f/x", syscall.ENOTDIR},
		{"/usr/lib/self", "/usr/lib/self", errLoop},
	} {
		got, err := s.resolve(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) && err != tc.err {
			t.Errorf("resolve(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestIsTriplet(t *testing.T) {
	for _, n := range []string{"x86_64-linux-gnu", "aarch64-linux-gnu", "arm-linux-gnueabihf", "i386-gnu", "x86_64-kfreebsd-gnu", "mips64el-linux-gnuabi64", "x86_64-linux-gnux32"} {
		if !isTriplet(n) {
			t.Errorf("%s is a triplet", n)
		}
	}
	for _, n := range []string{"gcc-cross", "gcc", "python3.11", "pkgconfig", "x86_64-w64-mingw32", "linux-gnu", "cmake"} {
		if isTriplet(n) {
			t.Errorf("%s is not a triplet", n)
		}
	}
	for a, tr := range debianArches {
		if !isTriplet(tr) || archOf(tr) != a {
			t.Errorf("%s: %s", a, tr)
		}
	}
}
