package deps

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixture (testdata/root) is a merged-/usr tree (lib -> usr/lib,
// bin -> usr/bin) with a dpkg database: libc6 for two architectures
// (Multi-Arch: same, qualified lists), packages that list their files
// under /lib or /bin and others under /usr, a file two packages share, a
// diversion by a package and a local one, alternatives and a virtual
// package with two providers, and a package of which only the
// configuration files remain.
const root = "testdata/root"

func load(t *testing.T) *DB {
	t.Helper()
	db, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestParseRelations(t *testing.T) {
	got := parseRelations("libc6 (>= 2.34), libc6-dev | libc-dev, gcc:any (>= 4:10), zlib1g [amd64] <!nocheck> | , ")
	want := [][]string{{"libc6"}, {"libc6-dev", "libc-dev"}, {"gcc"}, {"zlib1g"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseStatus(t *testing.T) {
	db := load(t)
	if db.Installed("oldpkg") {
		t.Error("a package with only its configuration files left counts as installed")
	}
	if got := len(db.byName["libc6"]); got != 2 {
		t.Errorf("libc6: %d architectures, want 2", got)
	}
	bf := db.pkgs[db.byName["base-files"][0]]
	if !bf.Essential || !slices.EqualFunc(bf.PreDepends, [][]string{{"awk"}}, slices.Equal) || bf.Depends != nil {
		t.Errorf("base-files parsed as %+v (a continuation line is not a field)", bf)
	}
	if !db.Installed("libc-dev") || !db.Installed("awk") {
		t.Error("virtual packages provided by installed ones are installed")
	}
}

func TestOwners(t *testing.T) {
	db := load(t)
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/usr/include/stdio.h", []string{"libc6-dev"}},
		// merged /usr, both ways: listed under /lib, read under /usr/lib,
		// and listed under /usr/bin, read under /bin.
		{"/lib/x86_64-linux-gnu/libc.so.6", []string{"libc6"}},
		{"/usr/lib/x86_64-linux-gnu/libc.so.6", []string{"libc6"}},
		{"/usr/lib/i386-linux-gnu/libc.so.6", []string{"libc6"}},
		{"/bin/dash", []string{"dash"}},
		{"/usr/bin/sh", []string{"dash"}},
		{"/usr/bin/../lib/x86_64-linux-gnu/libz.so.1.2.13", []string{"zlib1g"}},
		// a symlink is its own package's file, never followed
		{"/usr/lib/x86_64-linux-gnu/libz.so", []string{"zlib1g-dev"}},
		{"/lib/x86_64-linux-gnu/libz.so.1", []string{"zlib1g"}},
		// shared by two packages; and by two architectures of one
		{"/usr/share/doc/shared", []string{"libc6-dev", "zlib1g-dev"}},
		{"/usr/share/doc/libc6/copyright", []string{"libc6"}},
		// diversions: the diverting package keeps the name, the diverted
		// package's file lives under the new one; a local diversion
		// leaves the name to nobody
		{"/usr/bin/pg_config", []string{"postgresql-common"}},
		{"/usr/bin/pg_config.libpq-dev", []string{"libpq-dev"}},
		{"/etc/foo.conf", nil},
		{"/etc/foo.conf.distrib", []string{"foo"}},
		// directories own nothing; unowned files and leftovers neither
		{"/usr/include", nil},
		{"/lib/x86_64-linux-gnu", nil},
		{"/usr/lib/x86_64-linux-gnu", nil},
		{"/", nil},
		{"/etc/hostname", nil},
		{"/etc/old.conf", nil},
	} {
		if got := db.Owners(c.path); !slices.Equal(got, c.want) {
			t.Errorf("Owners(%s) = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestIsDir(t *testing.T) {
	db := load(t)
	for p, want := range map[string]bool{
		"/usr/include": true, "/lib/x86_64-linux-gnu": true, "/etc": true,
		"/usr/include/stdio.h": false, "/nonexistent": false,
	} {
		if got := db.IsDir(p); got != want {
			t.Errorf("IsDir(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestDiversionsMalformed(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "diversions")
	os.WriteFile(f, []byte("/a\n/b\n"), 0o644)
	if _, err := readDiversions(f); err == nil || !strings.Contains(err.Error(), "multiple of 3") {
		t.Fatalf("a truncated diversions file: err = %v", err)
	}
	if d, err := readDiversions(filepath.Join(dir, "missing")); err != nil || d != nil {
		t.Fatalf("no diversions file: %v, %v", d, err)
	}
}

func TestClosure(t *testing.T) {
	db := load(t)
	base := []string{
		"base-files", "build-essential", "cpp-13", "dash", "gawk", "gcc",
		"libc6", "libc6-dev", "linux-libc-dev", "make",
	}
	for _, c := range []struct {
		declared []string
		want     []string
	}{
		// build-essential's closure and the Essential packages; awk, a
		// virtual package, is met by its first provider by name (gawk);
		// cpp-12 | cpp-13 by the installed one.
		{nil, base},
		{[]string{"libc6-dev"}, base},
		// a declared provider meets the virtual dependency instead
		{[]string{"mawk"}, replace(base, "gawk", "mawk")},
		// a declared package brings its own dependencies; qualifiers and
		// order do not matter
		{[]string{"zlib1g-dev:amd64", "make"}, sorted(append(base, "zlib1g-dev", "zlib1g"))},
		// a virtual name stands for its providers
		{[]string{"libc-dev"}, base},
	} {
		got, err := db.Closure(c.declared)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Closure(%q) =\n %q, want\n %q", c.declared, got, c.want)
		}
	}
	if _, err := db.Closure([]string{"zlib1g-dve"}); err == nil || !strings.Contains(err.Error(), "zlib1g-dve") {
		t.Errorf("an unknown package: err = %v", err)
	}
	if _, err := db.Closure([]string{"oldpkg"}); err == nil {
		t.Error("a removed package (config-files) is not installed")
	}
}

func replace(s []string, old, new string) []string {
	out := slices.Clone(s)
	out[slices.Index(out, old)] = new
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestOnlyDeps(t *testing.T) {
	db := load(t)
	pol, err := db.OnlyDeps([]string{"libc6-dev"})
	if err != nil {
		t.Fatal(err)
	}
	with, err := db.OnlyDeps([]string{"libc6-dev", "zlib1g-dev"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir, name string
		pkg       string // hidden under libc6-dev only, by this package
	}{
		{"/usr/include", "zlib.h", "zlib1g-dev"},
		{"/usr/lib/x86_64-linux-gnu", "libz.so", "zlib1g-dev"},
		{"/usr/lib/x86_64-linux-gnu", "libz.so.1.2.13", "zlib1g"},
		{"/usr/bin", "mawk", "mawk"},
		{"/usr/bin", "pg_config", "postgresql-common"},
		{"/usr/include", "stdio.h", ""},
		{"/usr/lib/x86_64-linux-gnu", "libc.so.6", ""},
		{"/usr/bin", "sh", ""},
		{"/usr/share/doc", "shared", ""}, // one owner is allowed
		{"/etc", "hostname", ""},         // unowned
		{"/etc", "foo.conf", ""},         // diverted away locally: unowned
		{"/usr", "include", ""},          // a directory
		{"/usr/lib", "x86_64-linux-gnu", ""},
	} {
		pkg, hide := pol.Undeclared(c.dir, c.name)
		if hide != (c.pkg != "") || pkg != c.pkg {
			t.Errorf("libc6-dev: Undeclared(%s, %s) = %q, %v; want %q", c.dir, c.name, pkg, hide, c.pkg)
		}
		if c.pkg == "zlib1g-dev" || c.pkg == "zlib1g" {
			if pkg, hide := with.Undeclared(c.dir, c.name); hide {
				t.Errorf("libc6-dev,zlib1g-dev: %s/%s hidden (%s)", c.dir, c.name, pkg)
			}
		}
	}
}

func TestUndeclaredAllocs(t *testing.T) {
	pol, err := load(t).OnlyDeps(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(100, func() {
		pol.Undeclared("/usr/include", "stdio.h")
		pol.Undeclared("/nowhere", "x")
	})
	if n != 0 {
		t.Errorf("Undeclared allocates %v times for an allowed file", n)
	}
}

func TestAttribute(t *testing.T) {
	db := load(t)
	a := db.Attribute([]FileRead{
		{Layer: HostLayer, Path: "/usr/include/zlib.h", Host: "/usr/include/zlib.h"},
		{Layer: HostLayer, Path: "/usr/include/stdio.h", Host: "/usr/include/stdio.h"},
		{Layer: HostLayer, Path: "/usr/lib/x86_64-linux-gnu/libc.so.6", Host: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
		{Layer: HostLayer, Path: "/usr/share/doc/shared"},
		{Layer: HostLayer, Path: "/etc/hostname", Host: "/etc/hostname"},
		{Layer: HostLayer, Path: "/usr/include", Host: "/usr/include"},
		{Layer: "/sdk", Path: "/usr/include/zlib.h", Host: "/sdk/usr/include/zlib.h"},
		{Layer: "/sdk", Path: "/usr/include/a.h", Host: "/sdk/usr/include/a.h"},
		{Layer: HostLayer, Path: "/usr/include/stdio.h", Host: "/usr/include/stdio.h"},
	})
	want := Attribution{
		Packages: []PackageFiles{
			{"libc6", []string{"/usr/lib/x86_64-linux-gnu/libc.so.6"}},
			{"libc6-dev", []string{"/usr/include/stdio.h", "/usr/share/doc/shared"}},
			{"zlib1g-dev", []string{"/usr/include/zlib.h", "/usr/share/doc/shared"}},
		},
		Unowned: []string{"/etc/hostname"},
		Layers:  []LayerFiles{{"/sdk", []string{"/usr/include/a.h", "/usr/include/zlib.h"}}},
	}
	if fmt.Sprint(a) != fmt.Sprint(want) {
		t.Errorf("got\n %+v\nwant\n %+v", a, want)
	}
	if e := db.Attribute(nil); e.Packages == nil || e.Unowned == nil || e.Layers == nil {
		t.Errorf("empty attribution has nil lists: %+v", e)
	}
}
