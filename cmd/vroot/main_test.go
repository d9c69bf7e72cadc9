package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// beMain turns the test binary into vroot itself, so that the tests see
// what a user sees: real exit statuses and output, main's wiring included.
const beMain = "VROOT_TEST_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beMain) != "" {
		main()
		panic("main returned") // it must exit
	}
	os.Exit(m.Run())
}

func runVroot(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beMain+"=1")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // prefix
		stderr string // prefix
	}{
		{[]string{"version"}, 0, "vroot ", ""},
		{[]string{"help"}, 0, "Usage:", ""},
		{[]string{"-h"}, 0, "Usage:", ""},
		{[]string{"--bogus", "make"}, 125, "", "vroot: flag provided but not defined: -bogus"},
		{[]string{}, 125, "", "vroot: no command given"},
		{[]string{"pack"}, 125, "", "vroot: pack: usage: vroot pack STAGE -o FILE"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runVroot(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.HasPrefix(stdout, tc.stdout) || (tc.stdout == "" && stdout != "") {
				t.Errorf("stdout %q, want it to start with %q", stdout, tc.stdout)
			}
			if !strings.HasPrefix(stderr, tc.stderr) || (tc.stderr == "" && stderr != "") {
				t.Errorf("stderr %q, want it to start with %q", stderr, tc.stderr)
			}
		})
	}
}
