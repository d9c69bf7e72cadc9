package tracer

import (
	"errors"
	"testing"
)

func TestProcMemTarget(t *testing.T) {
	for host, want := range map[string]int{
		"/proc/42/mem":             42,
		"/proc/42/task/43/mem":     43,
		"/proc/self/mem":           0, // the resolver has already made it numeric
		"/proc/42/memx":            0,
		"/proc/42/fd/3":            0,
		"/proc/0/mem":              0,
		"/proc/-1/mem":             0,
		"/tmp/proc/42/mem":         0,
		"/proc/42/task/x/mem":      0,
		"/proc/42/mem/":            0,
		"/proc/1234567/task/1/mem": 1,
	} {
		if got := procMemTarget(host); got != want {
			t.Errorf("procMemTarget(%q) = %d, want %d", host, got, want)
		}
	}
}

func TestCheckLandlockABI(t *testing.T) {
	for abi, want := range map[int]string{
		0: "--strict needs Landlock ABI 3 or later (Linux 6.2+, with landlock in the kernel's lsm= list); this kernel has none: run without --strict",
		2: "--strict needs Landlock ABI 3 or later (Linux 6.2+, with landlock in the kernel's lsm= list); this kernel has ABI 2: run without --strict",
		3: "",
		7: "",
	} {
		err := checkLandlockABI(abi)
		got := ""
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrNoLandlock) {
				t.Errorf("ABI %d: %v is not ErrNoLandlock", abi, err)
			}
		}
		if got != want {
			t.Errorf("ABI %d: %q, want %q", abi, got, want)
		}
	}
}
