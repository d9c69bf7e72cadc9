package configs_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/vroot-dev/vroot/configs"
	"github.com/vroot-dev/vroot/filemap"
)

func TestNames(t *testing.T) {
	got := configs.Names()
	for _, want := range []string{"default", "sdk", "strict"} {
		if !slices.Contains(got, want) {
			t.Errorf("Names() = %v, missing %q", got, want)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("Names() = %v, not sorted", got)
	}
}

// Every shipped profile must load and compile: a broken one would only be
// found by the user who asks for it.
func TestShippedProfilesCompile(t *testing.T) {
	l := &filemap.Loader{
		Vars:    filemap.Vars{CWD: "/build/hello", HOME: "/home/u", SDK: "/sdk"},
		Shipped: configs.FS,
	}
	for _, name := range configs.Names() {
		t.Run(name, func(t *testing.T) {
			p, err := l.LoadShipped(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Rules) == 0 {
				t.Fatal("no rules")
			}
			switch p.Net {
			case "allow", "loopback", "none":
			default:
				t.Errorf("Net = %q", p.Net)
			}
			m, err := filemap.New(p.Rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Rules {
				if !strings.HasPrefix(r.Source, "<shipped>/") {
					t.Errorf("rule %s: Source %q does not name the shipped file", r.Path, r.Source)
				}
			}
			// Everything is covered: no guest path falls through.
			if m.Lookup("/") == nil || m.Lookup("/nonexistent/x") == nil {
				t.Error("some paths match no rule")
			}
		})
	}
}

func TestEveryFileIsAProfile(t *testing.T) {
	ents, err := fs.ReadDir(configs.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(configs.Names()) {
		t.Errorf("FS has %d entries, Names %d", len(ents), len(configs.Names()))
	}
}

// The shipped profiles' meaning, checked on the paths a build touches.
func TestShippedDecisions(t *testing.T) {
	l := &filemap.Loader{
		Vars:    filemap.Vars{CWD: "/build/hello", HOME: "/home/u", SDK: "/sdk"},
		Shipped: configs.FS,
	}
	type want struct {
		path   string
		action filemap.Action
		host   []string // HostPaths, if checked
	}
	for _, tc := range []struct {
		profile string
		net     string
		want    []want
	}{
		{"default", "allow", []want{
			{"/usr/bin/cc", filemap.Redirect, []string{"/"}},
			{"/etc/passwd", filemap.Redirect, nil},
			{"/build/hello/main.o", filemap.Grant, nil},
			{"/build/hello", filemap.Grant, nil},
			{"/build/hello2", filemap.Redirect, nil},
			{"/tmp/cc1.s", filemap.Grant, nil},
			{"/var/tmp/x", filemap.Grant, nil},
			{"/dev/null", filemap.Grant, nil},
			{"/proc/self/exe", filemap.Grant, nil},
			{"/sys/devices/system/cpu/online", filemap.Grant, nil},
			{"/home/u/.cache/ccache/x", filemap.Grant, nil},
			{"/home/u/.bashrc", filemap.Redirect, nil},
		}},
		{"strict", "none", []want{
			{"/home/u/.bashrc", filemap.Deny, nil},
			{"/opt/x", filemap.Deny, nil},
			{"/usr/include/stdio.h", filemap.Redirect, []string{"/usr"}},
			{"/etc/ld.so.cache", filemap.Redirect, nil},
			{"/lib64/ld-linux-x86-64.so.2", filemap.Redirect, nil},
			{"/build/hello/main.c", filemap.Grant, nil},
			{"/tmp/x", filemap.Grant, nil},
			{"/sys/x", filemap.Grant, nil},
		}},
		{"sdk", "allow", []want{
			{"/usr/include/stdio.h", filemap.Redirect, []string{"/sdk/usr/include", "/usr/include"}},
			{"/usr/lib/aarch64-linux-gnu/libc.so", filemap.Redirect, []string{"/sdk/usr/lib", "/usr/lib"}},
			{"/usr/lib/pkgconfig/zlib.pc", filemap.Redirect, []string{"/sdk/usr/lib/pkgconfig", "/usr/lib/pkgconfig"}},
			{"/usr/share/pkgconfig/x.pc", filemap.Redirect, []string{"/sdk/usr/share/pkgconfig", "/usr/share/pkgconfig"}},
			{"/lib/ld-linux-aarch64.so.1", filemap.Redirect, []string{"/sdk/lib", "/lib"}},
			{"/usr/bin/gcc", filemap.Redirect, []string{"/"}}, // the host's tools
			{"/usr/lib/aarch64-linux-gnu/libz.so", filemap.Redirect, []string{"/sdk/usr/lib", "/usr/lib"}},
			// The host's tools' private directories under the layered /usr/lib.
			{"/usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h", filemap.Redirect, []string{"/usr/lib/gcc"}},
			{"/usr/lib/gcc-cross/aarch64-linux-gnu/12/crtbeginS.o", filemap.Redirect, []string{"/usr/lib/gcc-cross"}},
			{"/usr/lib/aarch64-linux-gnu/ldscripts/aarch64linux.x", filemap.Redirect, []string{"/usr/lib/aarch64-linux-gnu/ldscripts"}},
			{"/usr/lib/bfd-plugins/liblto_plugin.so", filemap.Redirect, []string{"/usr/lib/bfd-plugins"}},
			{"/usr/lib/python3/dist-packages/mesonbuild/x.py", filemap.Redirect, []string{"/usr/lib/python3"}},
			{"/usr/libexec/coreutils/libstdbuf.so", filemap.Redirect, []string{"/usr/libexec"}},
			{"/build/hello/x.o", filemap.Grant, nil}, // from default
		}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			p, err := l.LoadShipped(tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			if p.Net != tc.net {
				t.Errorf("Net = %q, want %q", p.Net, tc.net)
			}
			m, err := filemap.New(p.Rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				r := m.Lookup(w.path)
				if r == nil {
					t.Errorf("%s: no rule", w.path)
					continue
				}
				if r.Action != w.action {
					t.Errorf("%s: %s, want %s", w.path, r, w.action)
				}
				if w.host != nil && !slices.Equal(r.HostPaths(), w.host) {
					t.Errorf("%s: HostPaths %v, want %v", w.path, r.HostPaths(), w.host)
				}
			}
		})
	}
}

func TestSDKNeedsSDK(t *testing.T) {
	l := &filemap.Loader{Vars: filemap.Vars{CWD: "/b", HOME: "/h"}, Shipped: configs.FS}
	_, err := l.LoadShipped("sdk")
	if err == nil || !strings.Contains(err.Error(), "${SDK}") {
		t.Fatalf("err = %v, want one about ${SDK}", err)
	}
}
