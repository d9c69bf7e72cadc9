package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vroot-dev/vroot/filemap"
)

func TestParseArgsSDK(t *testing.T) {
	o, err := parseArgs([]string{"-v", "sdk", "check", "--json", "d"})
	mustNil(t, err)
	checkEq(t, o.cmd, cmdSDK)
	checkSlice(t, o.args, []string{"check", "--json", "d"})

	o, err = parseArgs([]string{"--", "sdk", "x"})
	mustNil(t, err)
	checkEq(t, o.cmd, cmdRun)
	checkSlice(t, o.args, []string{"sdk", "x"})

	o, err = parseArgs([]string{"--sdk", "s", "make"})
	mustNil(t, err)
	checkEq(t, o.sdk, "s")
}

// mkSDK makes an SDK directory under the cwd and returns its real path.
func mkSDK(t *testing.T, cwd, name string) string {
	t.Helper()
	d := filepath.Join(cwd, name)
	mustNil(t, os.MkdirAll(filepath.Join(d, "usr/include"), 0o755))
	return d
}

// planLine returns check's line for path.
func planLine(out, path string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == path {
			return strings.Join(f, " ")
		}
	}
	return ""
}

func TestMainSDKSelectsProfile(t *testing.T) {
	cwd, _ := inTempHome(t)
	sdkDir := mkSDK(t, cwd, "sysroot")
	mustNil(t, os.Symlink("sysroot", filepath.Join(cwd, "link")))
	for _, args := range [][]string{
		{"--sdk", "sysroot", "check"},
		{"check", "--sdk", "sysroot"},
		{"--sdk", sdkDir, "check"},
		{"--sdk", "link", "check"}, // through the symlink: the real path
	} {
		r := runMain(t, args...)
		checkEq(t, r.code, 0, "%v: %s", args, r.stderr)
		checkEq(t, r.stderr, "", "%v", args)
		checkf(t, strings.HasPrefix(planLine(r.stdout, "/usr/include"), "/usr/include redirect -> "+sdkDir+"/usr/include, /usr/include (<shipped>/sdk.toml:"),
			"%v: %q", args, planLine(r.stdout, "/usr/include"))
		checkf(t, strings.HasPrefix(planLine(r.stdout, "/usr/lib/gcc-cross"), "/usr/lib/gcc-cross redirect (<shipped>/sdk.toml:"),
			"%v: %q", args, planLine(r.stdout, "/usr/lib/gcc-cross"))
		checkf(t, strings.HasPrefix(planLine(r.stdout, "/"), "/ redirect (<shipped>/default.toml:"), "%v: %q", args, planLine(r.stdout, "/"))
	}
}

func TestMainSDKWithProfile(t *testing.T) {
	cwd, _ := inTempHome(t)
	sdkDir := mkSDK(t, cwd, "sysroot")
	r := runMain(t, "--profile", "strict", "--sdk", "sysroot", "check")
	checkEq(t, r.code, 125)
	checkEq(t, r.stderr, "vroot: --sdk sysroot: no rule reads from it (--profile strict uses no ${SDK}); drop --profile to use the sdk profile, or add a --config whose rules use ${SDK}\n")

	// A copy of the profile, changed, given with --config.
	cfg := write(t, cwd, "my-sdk.toml", "[[rule]]\npath = \"/usr/include\"\naction = \"redirect\"\nto = [\"${SDK}/inc\"]\n")
	r = runMain(t, "--profile", "default", "--config", cfg, "--sdk", "sysroot", "check")
	checkEq(t, r.code, 0, r.stderr)
	checkf(t, strings.HasPrefix(planLine(r.stdout, "/usr/include"), "/usr/include redirect -> "+sdkDir+"/inc ("), "%q", planLine(r.stdout, "/usr/include"))
	checkEq(t, planLine(r.stdout, "/usr/lib"), "")

	// --profile sdk is the same as no --profile.
	r = runMain(t, "--profile", "sdk", "--sdk", "sysroot", "check")
	checkEq(t, r.code, 0, r.stderr)
	// Without --sdk, the sdk profile cannot load.
	r = runMain(t, "--profile", "sdk", "check")
	checkEq(t, r.code, 125)
	checkContains(t, r.stderr, "uses ${SDK}, but no SDK was given")
}

func TestMainSDKBadDir(t *testing.T) {
	cwd, _ := inTempHome(t)
	write(t, cwd, "file", "")
	for _, tc := range []struct{ dir, want string }{
		{"file", "vroot: --sdk file: not a directory\n"},
		{"nosuch", "vroot: --sdk nosuch: no such file or directory\n"},
	} {
		for _, args := range [][]string{{"--sdk", tc.dir, "check"}, {"--sdk", tc.dir, "--", "true"}} {
			r := runMain(t, args...)
			checkEq(t, r.code, 125, "%v", args)
			checkEq(t, r.stderr, tc.want, "%v", args)
		}
	}
}

func TestSDKCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mustNil(t, os.MkdirAll(filepath.Join(dir, "usr/lib/aarch64-linux-gnu"), 0o755))
	var out, errb strings.Builder

	for _, args := range [][]string{{"help"}, {"-h"}, {"check", "-h"}, {"create", "--help"}} {
		out.Reset()
		mustNil(t, sdkCommand(ctx, args, &out, &errb))
		checkf(t, strings.HasPrefix(out.String(), "Usage:\n  vroot sdk check"), "%v: %q", args, out.String())
	}

	out.Reset()
	mustNil(t, sdkCommand(ctx, []string{"check", dir}, &out, &errb))
	checkf(t, strings.HasSuffix(out.String(), "triplet aarch64-linux-gnu (arm64) lib /usr/lib/aarch64-linux-gnu\n0 errors, 0 warnings\n"), "%q", out.String())

	// Flags after DIR too; JSON.
	out.Reset()
	mustNil(t, sdkCommand(ctx, []string{"check", dir, "--json"}, &out, &errb))
	var rep struct {
		Triplets []struct{ Name string } `json:"triplets"`
		Errors   int                     `json:"errors"`
	}
	mustNil(t, json.Unmarshal([]byte(out.String()), &rep))
	checkEq(t, len(rep.Triplets), 1)

	// Problems: exit status 1, nothing more printed.
	mustNil(t, os.Symlink("gone", filepath.Join(dir, "usr/lib/aarch64-linux-gnu/libx.so")))
	out.Reset()
	err := sdkCommand(ctx, []string{"check", dir}, &out, &errb)
	var ee *exitError
	checkf(t, errors.As(err, &ee) && ee.code == 1 && ee.err == nil, "err = %v", err)
	checkf(t, slices.Contains(strings.Split(out.String(), "\n"),
		"error dangling-symlink /usr/lib/aarch64-linux-gnu/libx.so -> gone: dangling: /usr/lib/aarch64-linux-gnu/gone is missing in the SDK"), "%s", out.String())

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "sdk: want check or create (see vroot sdk help)"},
		{[]string{"frob"}, `sdk: unknown subcommand "frob": want check or create (see vroot sdk help)`},
		{[]string{"check"}, "sdk check: want one DIR (see vroot sdk help)"},
		{[]string{"check", "a", "b"}, "sdk check: want one DIR (see vroot sdk help)"},
		{[]string{"check", "--bogus", "a"}, "sdk check: flag provided but not defined: -bogus (see vroot sdk help)"},
		{[]string{"check", filepath.Join(dir, "nosuch")}, "sdk check: stat " + filepath.Join(dir, "nosuch") + ": no such file or directory"},
		{[]string{"create", dir}, "sdk create: want DIR and at least one package (see vroot sdk help)"},
		{[]string{"create", "--arch"}, "sdk create: flag needs an argument: -arch (see vroot sdk help)"},
		{[]string{"create", dir, "--", "-o=x"}, `sdk create: "-o=x" is not a Debian package name`},
	} {
		err := sdkCommand(ctx, tc.args, &out, &errb)
		checkf(t, err != nil && err.Error() == tc.want, "%v: err = %v, want %q", tc.args, err, tc.want)
	}
}

func TestUsesSDK(t *testing.T) {
	for _, tc := range []struct {
		to   []string
		want bool
	}{
		{[]string{"/sdk/usr", "/usr"}, true},
		{[]string{"/sdk"}, true},
		{[]string{"/sdkx/usr"}, false},
		{nil, false},
	} {
		rules := []filemap.Rule{{Path: "/usr", Action: filemap.Redirect, To: tc.to}}
		checkEq(t, usesSDK(rules, "/sdk"), tc.want, "%v", tc.to)
	}
}
