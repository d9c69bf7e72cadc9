package tracer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vroot-dev/vroot/filemap"
	"github.com/vroot-dev/vroot/redirect"
)

// openat2Helper opens each argument "PATH:RESOLVE" with openat2 and prints
// "PATH: ok" or the errno.
func openat2Helper(args []string) int {
	for _, a := range args {
		i := strings.LastIndexByte(a, ':')
		var resolve uint64
		fmt.Sscanf(a[i+1:], "%x", &resolve)
		fd, err := unix.Openat2(unix.AT_FDCWD, a[:i], &unix.OpenHow{Flags: unix.O_RDONLY, Resolve: resolve})
		if err != nil {
			fmt.Printf("%s: %v\n", a, err)
			continue
		}
		unix.Close(fd)
		fmt.Printf("%s: ok\n", a)
	}
	return 0
}

// TestOpenat2ResolveFlags checks RESOLVE_NO_SYMLINKS and
// RESOLVE_NO_MAGICLINKS are applied to the guest's path, not the host's:
// the map's layer is reached through a host symlink the guest never sees,
// and the guest's own symlinks and magic links still refuse. The expected
// answers are what the kernel gives natively on the same tree.
func TestOpenat2ResolveFlags(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	must(t, os.MkdirAll(filepath.Join(real, "inc", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(real, "inc", "x.h"), []byte("x"), 0o644))
	must(t, os.Symlink("x.h", filepath.Join(real, "inc", "link")))
	must(t, os.Symlink("inc", filepath.Join(real, "dirlink")))
	// The layer, as the map names it, is reached through a symlink on the
	// host. (A layer that is itself a symlink is a symlink in the guest.)
	must(t, os.Symlink(".", filepath.Join(dir, "via")))
	layer := filepath.Join(dir, "via", "real")

	const noSym, noMagic = unix.RESOLVE_NO_SYMLINKS, unix.RESOLVE_NO_MAGICLINKS
	cases := []struct {
		rel     string
		resolve int
	}{
		{"inc/x.h", noSym},
		{"inc/x.h", noMagic},
		{"inc/link", 0},
		{"inc/link", noSym},
		{"inc/link", noMagic},
		{"dirlink/x.h", noSym},
		{"dirlink/x.h", 0},
	}
	arg := func(root string) []string {
		var out []string
		for _, c := range cases {
			out = append(out, fmt.Sprintf("%s/%s:%x", root, c.rel, c.resolve))
		}
		// A magic link: the process's cwd, then a name inside it.
		out = append(out, "/proc/self/cwd/inc/x.h:0", fmt.Sprintf("/proc/self/cwd/inc/x.h:%x", noMagic), fmt.Sprintf("/proc/self/cwd/inc/x.h:%x", noSym))
		return out
	}

	// Natively, on the real tree, from inside it.
	native := runNative(t, real, "openat2", arg(real)...)

	m, err := filemap.New([]filemap.Rule{
		{Path: "/", Action: filemap.Redirect},
		{Path: "/vroot-guest", Action: filemap.Redirect, To: []string{layer}},
	})
	must(t, err)
	res := redirect.New(m, redirect.Options{})
	args, env := helperArgs("openat2", arg("/vroot-guest")...)
	got := runTracedEnv(t, res, "/vroot-guest", env, args...)
	if got.exit.Code != 0 {
		t.Fatalf("exit %d: %s", got.exit.Code, got.stderr)
	}
	want := strings.ReplaceAll(native, real, "/vroot-guest")
	if got.stdout != want {
		t.Errorf("under vroot:\n%s\nnatively:\n%s", got.stdout, want)
	}
	if !strings.Contains(want, "inc/link:4: too many levels of symbolic links") || !strings.Contains(want, "inc/x.h:4: ok") {
		t.Fatalf("the native run does not show what the test is about:\n%s", want)
	}
}

func runNative(t *testing.T, dir, helper string, args ...string) string {
	t.Helper()
	a, env := helperArgs(helper, args...)
	cmd := exec.Command(a[0], a[1:]...)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("native %s: %v", helper, err)
	}
	return string(out)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
