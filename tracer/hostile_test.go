package tracer

import "testing"

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
